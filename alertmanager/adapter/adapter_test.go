package adapter_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter"
	"github.com/flagger-monitoring/flagger-monitoring/internal/server"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

func post(t testing.TB, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// group is a webhook body of n alerts over canaries, unique per seq so the
// idempotency window does not hide deliveries.
func group(seq, n, canaries int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"receiver":"flagger-events","status":"firing","version":"4","groupKey":"{}:{g=\"%d\"}","truncatedAlerts":0,"externalURL":"http://am","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"alerts":[`, seq)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"FlaggerCanaryFailed","canary":"c%d","namespace":"bench","severity":"warning","seq":"%d","i":"%03d"},`+
			`"annotations":{"summary":"Canary failed","description":"Rolling back c%d.bench failed checks threshold reached 5"},"startsAt":"2026-11-24T06:54:24Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph","fingerprint":"%08x%08x"}`,
			i%canaries, seq, i, i%canaries, seq, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func TestReloadEndpointSwapsTargets(t *testing.T) {
	first, second := newConsumer(t, nil), newConsumer(t, nil)
	e := newEnv(t, targetConfig(first.URL))
	if code, _ := post(t, e.webhookURL(), group(1, 1, 1)); code != 200 || len(first.events()) != 1 {
		t.Fatalf("first target: %d, %d events", code, len(first.events()))
	}
	e.write(t, targetConfig(second.URL))
	if code, body := post(t, e.srv.URL+"/-/reload", nil); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	post(t, e.webhookURL(), group(2, 1, 1))
	if len(second.events()) != 1 || len(first.events()) != 1 {
		t.Fatalf("after reload: first %d, second %d", len(first.events()), len(second.events()))
	}
	e.write(t, "targets: [{name: broken, url: 'not a url'}]")
	if code, body := post(t, e.srv.URL+"/-/reload", nil); code != 500 || !strings.Contains(body, "url") {
		t.Fatalf("invalid reload: %d %s", code, body)
	}
	post(t, e.webhookURL(), group(3, 1, 1))
	if len(second.events()) != 2 {
		t.Fatal("the old config must keep running after a refused reload")
	}
}

func TestNewRefusesInvalidConfig(t *testing.T) {
	if _, err := adapter.New(adapter.Options{ConfigFile: "/nonexistent.yml"}); err == nil {
		t.Error("missing file accepted")
	}
}

func TestRegisterRefusesReservedPaths(t *testing.T) {
	e := newEnv(t, targetConfig("http://127.0.0.1:1/"))
	for _, p := range []string{"", "/", "/metrics", "/-/reload", "webhook", "/a b"} {
		if err := e.Register(http.NewServeMux(), p); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if err := e.Register(http.NewServeMux(), "/alertmanager/flagger"); err != nil {
		t.Error(err)
	}
}

// TestConcurrentNotifications: Alertmanager sends many groups at once (and
// HA pairs send the same group twice); under -race, every event is delivered
// exactly once.
func TestConcurrentNotifications(t *testing.T) {
	c := newConsumer(t, func(n int) int {
		if n%7 == 3 {
			return 503
		}
		return 0
	})
	e := newEnv(t, "targets: [{name: c, url: '"+c.URL+"', max_retries: 10, min_backoff: 1ms, max_backoff: 2ms}]")
	var wg sync.WaitGroup
	for g := range 20 {
		for range 2 { // each group twice, concurrently
			wg.Go(func() {
				if code, body := post(t, e.webhookURL(), group(g, 10, 3)); code != 200 {
					t.Errorf("group %d: %d %s", g, code, body)
				}
			})
		}
	}
	wg.Wait()
	seen := map[string]int{}
	for _, ev := range c.events() {
		seen[ev.Checksum]++
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct events, want 200", len(seen))
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}

// TestGracefulShutdownDrains: a notification in flight when the server is
// told to stop still gets delivered and answered.
func TestGracefulShutdownDrains(t *testing.T) {
	c := newConsumer(t, func(int) int { time.Sleep(300 * time.Millisecond); return 0 })
	e := newEnv(t, "targets: [{name: slow, url: '"+c.URL+"', timeout: 2s}]")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	mux := http.NewServeMux()
	if err := e.Register(mux, adapter.DefaultPath); err != nil {
		t.Fatal(err)
	}
	noSystemd, noFile := false, ""
	opts := server.Options{Name: "test", Logger: log.NewNopLogger(), Ready: e.Ready, ShutdownTimeout: 5 * time.Second,
		Web: &web.FlagConfig{WebListenAddresses: &[]string{addr}, WebSystemdSocket: &noSystemd, WebConfigFile: &noFile}}
	h, err := server.Handler(opts, mux)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- server.Run(ctx, opts, h) }()
	url := "http://" + addr + adapter.DefaultPath
	waitReady(t, "http://"+addr+"/-/ready")

	answered := make(chan int, 1)
	go func() { code, _ := post(t, url, group(1, 1, 1)); answered <- code }()
	for c.requests() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // SIGTERM, as far as the server knows
	if code := <-answered; code != 200 {
		t.Errorf("in-flight notification answered %d", code)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if len(c.events()) != 1 {
		t.Error("in-flight event not delivered")
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server not ready")
}

// Run is the binary minus its flags: it refuses a bad config file or webhook
// path before it listens, and serves the webhook, /metrics and the health
// endpoints until its context ends.
func TestRun(t *testing.T) {
	e := newEnv(t, targetConfig("http://127.0.0.1:1/"))
	addr := testutil.FreeAddr(t)
	listen := []string{addr}
	systemd := false
	cfg := adapter.Config{ConfigFile: e.path, WebhookPath: adapter.DefaultPath, ShutdownTimeout: time.Second,
		Web: &web.FlagConfig{WebListenAddresses: &listen, WebSystemdSocket: &systemd, WebConfigFile: new(string)}}

	bad := cfg
	bad.ConfigFile = "/nonexistent.yml"
	if err := adapter.Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("missing config file: %v", err)
	}
	bad = cfg
	bad.WebhookPath = "/metrics"
	if err := adapter.Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "/metrics") {
		t.Errorf("reserved webhook path: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- adapter.Run(ctx, cfg) }()
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 10s: %v", err)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "flagger_event_adapter_build_info") {
		t.Errorf("/metrics lacks the build info:\n%.500s", body)
	}
	if code, _ := post(t, base+adapter.DefaultPath, []byte("not json")); code != 400 {
		t.Errorf("garbage to the webhook: %d, want 400", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
