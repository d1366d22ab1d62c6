package events

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	itestutil "github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

func stepAlert(event string, lifetime time.Duration) Alert {
	now := time.Now().Truncate(time.Millisecond) // Alertmanager keeps milliseconds
	return Alert{
		Labels:      map[string]string{"alertname": AlertName, "namespace": "test", "canary": "podinfo", "event": event},
		Annotations: map[string]string{"message": "Advance podinfo.test canary weight 20"},
		StartsAt:    now, EndsAt: now.Add(lifetime),
	}
}

// A refused request is retried until it succeeds, and every alert arrives.
func TestForwarderRetries(t *testing.T) {
	var calls atomic.Int32
	got := make(chan []Alert, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/am/api/v2/alerts" || r.Method != http.MethodPost || r.Header.Get("User-Agent") != "flagger-exporter/test" {
			t.Errorf("request %s %s UA %q", r.Method, r.URL.Path, r.Header.Get("User-Agent"))
		}
		if calls.Add(1) <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		var alerts []Alert
		if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
			t.Error(err)
		}
		got <- alerts
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	f, err := NewForwarder(ForwarderConfig{URLs: []string{srv.URL + "/am"}, UserAgent: "flagger-exporter/test", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Send(stepAlert("e/1", time.Minute))
	f.Send(stepAlert("e/2", time.Minute))
	go f.Run(ctx)
	var events []string
	for len(events) < 2 {
		select {
		case batch := <-got:
			for _, a := range batch {
				events = append(events, a.Labels["event"])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivered %v so far", events)
		}
	}
	if strings.Join(events, ",") != "e/1,e/2" {
		t.Errorf("delivered %v", events)
	}
	am := srv.URL + "/am/api/v2/alerts"
	if n := testutil.ToFloat64(f.targets[0].metrics.failed.WithLabelValues(am)); n != 2 {
		t.Errorf("failed requests = %v, want 2", n)
	}
	eventually(t, "sent = 2", func() bool { return testutil.ToFloat64(f.targets[0].metrics.sent.WithLabelValues(am)) == 2 })
}

// answering runs a forwarder against a server that answers every request
// with status; it returns the forwarder's expired counter and the number of
// requests so far.
func answering(t *testing.T, status int, a Alert) (expired prometheus.Counter, calls func() int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		http.Error(w, http.StatusText(status), status)
	}))
	t.Cleanup(srv.Close)
	f, err := NewForwarder(ForwarderConfig{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go f.Run(ctx)
	f.Send(a)
	return f.targets[0].metrics.expired.WithLabelValues(srv.URL + "/api/v2/alerts"), n.Load
}

// An Alertmanager that stays down for an alert's whole lifetime: the alert
// is dropped and counted, not retried for ever.
func TestForwarderGivesUpAtTheEnd(t *testing.T) {
	expired, calls := answering(t, http.StatusBadGateway, stepAlert("e/1", time.Second))
	eventually(t, "the expired alert", func() bool { return testutil.ToFloat64(expired) == 1 })
	if n := calls(); n < 2 {
		t.Errorf("%d requests, want retries before giving up", n)
	}
}

// A full queue drops its oldest alert, counted, and never blocks Send.
func TestForwarderQueueFull(t *testing.T) {
	f, err := NewForwarder(ForwarderConfig{URLs: []string{"http://127.0.0.1:1"}, QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f.Send(stepAlert(fmt.Sprint("e/", i), time.Minute))
	}
	q := f.targets[0].queue
	if first := (<-q).Labels["event"]; first != "e/3" {
		t.Errorf("oldest kept %s, want e/3", first)
	}
	if n := testutil.ToFloat64(f.targets[0].metrics.dropped.WithLabelValues("http://127.0.0.1:1/api/v2/alerts")); n != 3 {
		t.Errorf("dropped = %v, want 3", n)
	}
}

// A refusal a retry cannot change (403) drops the batch at once.
func TestForwarderRefused(t *testing.T) {
	expired, calls := answering(t, http.StatusForbidden, stepAlert("e/1", time.Minute))
	eventually(t, "the refused alert dropped", func() bool { return testutil.ToFloat64(expired) == 1 })
	time.Sleep(700 * time.Millisecond) // past the first backoff
	if n := calls(); n != 1 {
		t.Errorf("%d requests, want 1: a 403 is not retried", n)
	}
}

func TestForwarderRejectsURLs(t *testing.T) {
	for _, u := range []string{"alertmanager:9093", "ftp://am", "http://", "://x", "http://am:9093/api/v2/alerts", "http://am:9093/api/v2/alerts/"} {
		if _, err := NewForwarder(ForwarderConfig{URLs: []string{u}}); err == nil || !strings.Contains(err.Error(), "--events.alertmanager-url") {
			t.Errorf("%q: err = %v", u, err)
		}
	}
}

// The alerts are what the real Alertmanager's API takes: it stores them
// with their labels, annotations and times.
func TestForwarderToAlertmanager(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route: {receiver: none}\nreceivers: [{name: none}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := itestutil.FreeAddr(t)
	cmd := exec.Command(itestutil.Tool(t, "alertmanager"), "--config.file="+cfg, "--storage.path="+dir,
		"--web.listen-address="+addr, "--cluster.listen-address=")
	var out itestutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	eventually(t, "alertmanager ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})

	f, err := NewForwarder(ForwarderConfig{URLs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx)
	sent := stepAlert("e-1/3", 10*time.Minute)
	sent.Annotations["event_type"] = "Warning"
	f.Send(sent)
	var stored []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		Status      struct{ State string }
	}
	eventually(t, "the alert in Alertmanager", func() bool {
		resp, err := http.Get(base + "/api/v2/alerts")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return json.Unmarshal(body, &stored) == nil && len(stored) == 1
	})
	s := stored[0]
	if !equalAlert(Alert{Labels: s.Labels, Annotations: s.Annotations, StartsAt: s.StartsAt, EndsAt: sent.EndsAt}, sent) || s.Status.State != "active" {
		t.Errorf("Alertmanager holds %+v, sent %+v\n%s", s, sent, out.String())
	}
	// A re-send (an exporter restart inside the lifetime) is the same alert.
	f.Send(sent)
	accepted := f.targets[0].metrics.sent.WithLabelValues(base + "/api/v2/alerts")
	eventually(t, "the re-send accepted", func() bool { return testutil.ToFloat64(accepted) == 2 })
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&stored); err != nil || len(stored) != 1 {
		t.Errorf("after a re-send: %d alerts, %v", len(stored), err)
	}
}
