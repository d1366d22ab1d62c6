package exporter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// stepFamilies are served only with --events.alertmanager-url, or (the
// latest step) once a canary has a per-step Event.
var stepFamilies = []string{
	"flagger_canary_last_step_timestamp_seconds",
	"flagger_exporter_step_alerts_sent_total", "flagger_exporter_step_alert_requests_failed_total",
	"flagger_exporter_step_alerts_expired_total", "flagger_exporter_step_alerts_dropped_total",
}

// amStandIn records the alerts POSTed to /api/v2/alerts. The real
// Alertmanager takes them in exporter/events' tests and in the conformance
// run, behind which the real Flagger records the Events.
type amStandIn struct {
	mu     sync.Mutex
	alerts []map[string]any
}

func (a *amStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var batch []map[string]any
	if r.URL.Path != "/api/v2/alerts" || json.NewDecoder(r.Body).Decode(&batch) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.alerts = append(a.alerts, batch...)
	a.mu.Unlock()
}

// field returns labels.<k> or annotations.<k> of every alert so far.
func (a *amStandIn) field(part, k string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, al := range a.alerts {
		m, _ := al[part].(map[string]any)
		s, _ := m[k].(string)
		out = append(out, s)
	}
	return out
}

// TestEventsRelay records Events on a Canary with client-go's recorder, the
// one Flagger records its messages with (same defaults: aggregation after 10
// similar events, a burst of 25 per object and type), and follows them
// through the exporter: every per-step occurrence that reaches the API
// server becomes one alert, lifecycle events none, the latest step is a
// series that goes with the canary, and a restart re-sends only alerts
// Alertmanager merges with the ones it has.
func TestEventsRelay(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	createNamespaces(t, c, "test")
	can := c.CreateCanary(t, "test", "podinfo", "podinfo")

	am := &amStandIn{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	e := startExporter(t, c.Kubeconfig, "--events.alertmanager-url", srv.URL)
	e.waitReady(t)
	// Occurrences before the Events' first list are seen only as the latest
	// of their Event; from here on, each one is.
	e.expect(t, "the Event cache synced", func(f map[string]*dto.MetricFamily) string {
		return want(f, "flagger_exporter_event_cache_synced", nil, 1)
	})

	clientset := kubernetes.NewForConfigOrDie(c.Config)
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: clientset.CoreV1().Events("")})
	defer b.Shutdown()
	rec := b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "flagger"})

	// 30 per-step messages, as a long rollout has them, and one lifecycle
	// event. Kubernetes keeps the first 25 of a type per object; from the
	// 11th the aggregator folds them into one Event with a prefix.
	var want []string
	for i := 1; i <= 30; i++ {
		msg := fmt.Sprintf("Advance podinfo.test canary weight %d", i)
		rec.Event(can, corev1.EventTypeNormal, "Synced", msg)
		if i <= 25 {
			want = append(want, msg)
		}
	}
	rec.Event(can, corev1.EventTypeWarning, "Synced", "Halt podinfo.test advancement waiting for approval gate")
	rec.Event(can, corev1.EventTypeWarning, "Synced", "Rolling back podinfo.test manual webhook invoked")
	want = append(want, "Rolling back podinfo.test manual webhook invoked")

	harness.Eventually(t, 30*time.Second, func() string {
		if got := am.field("annotations", "message"); len(got) < len(want) {
			evs, _ := clientset.CoreV1().Events("test").List(context.Background(), metav1.ListOptions{})
			var have []string
			for _, ev := range evs.Items {
				have = append(have, fmt.Sprintf("%d×%q", ev.Count, ev.Message))
			}
			return fmt.Sprintf("%d of %d step alerts: %q\nEvents: %s", len(got), len(want), got, strings.Join(have, ", "))
		}
		return ""
	})
	time.Sleep(time.Second) // nothing more may come
	got := am.field("annotations", "message")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("step alerts, in order:\n got %q\nwant %q", got, want)
	}
	if types := am.field("annotations", "event_type"); types[len(types)-1] != "Warning" || types[0] != "Normal" {
		t.Errorf("event types %v", types)
	}
	occurrences := am.field("labels", "event")
	seen := map[string]bool{}
	for _, o := range occurrences {
		if seen[o] {
			t.Errorf("occurrence %s sent twice", o)
		}
		seen[o] = true
	}

	e.expect(t, "the latest step", func(f map[string]*dto.MetricFamily) string {
		v := testutil.Values(f, "flagger_canary_last_step_timestamp_seconds",
			map[string]string{"namespace": "test", "canary": "podinfo", "type": "Warning", "message": "Rolling back podinfo.test manual webhook invoked"})
		if len(v) != 1 || v[0] < float64(time.Now().Add(-time.Minute).Unix()) {
			var all []string
			if fam := f["flagger_canary_last_step_timestamp_seconds"]; fam != nil {
				for _, m := range fam.Metric {
					all = append(all, m.String())
				}
			}
			return fmt.Sprintf("latest step series %v; all: %v", v, all)
		}
		return ""
	})

	// Every family the relay adds is served now, and documented.
	fams, err := harness.Scrape(t, e.url+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	checkDocumented(t, fams)

	// A restart lists the Events again: the recent ones are re-sent with
	// the same occurrence labels, which Alertmanager merges (see
	// TestForwarderToAlertmanager); nothing new is invented.
	e.Stop()
	before := len(occurrences)
	e2 := startExporter(t, c.Kubeconfig, "--events.alertmanager-url", srv.URL)
	e2.waitReady(t)
	harness.Eventually(t, 30*time.Second, func() string {
		if n := len(am.field("labels", "event")); n < before+1 {
			return fmt.Sprintf("%d alerts after the restart", n)
		}
		return ""
	})
	time.Sleep(time.Second)
	for _, o := range am.field("labels", "event")[before:] {
		if !seen[o] {
			t.Errorf("after the restart, new occurrence %s", o)
		}
	}

	if err := c.Dynamic.Resource(kube.CanaryResource).Namespace("test").Delete(context.Background(), "podinfo", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e2.expect(t, "the canary's series gone", func(f map[string]*dto.MetricFamily) string {
		if n := len(testutil.Values(f, "flagger_canary_last_step_timestamp_seconds", map[string]string{"canary": "podinfo"})); n != 0 {
			return fmt.Sprintf("%d latest-step series left", n)
		}
		return ""
	})
}
