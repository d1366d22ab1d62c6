package adapter_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/alertmanager/alert"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

// env is an adapter behind an httptest server, configured from a file.
type env struct {
	*adapter.Adapter
	srv  *httptest.Server
	reg  *prometheus.Registry
	path string
}

func newEnv(t testing.TB, cfg string) *env {
	t.Helper()
	return startEnv(t, cfg, adapter.Options{UserAgent: "test", Logger: log.NewNopLogger()}, httptest.NewUnstartedServer(nil))
}

// startEnv loads cfg into an adapter made with o (its config file and
// registry filled in) and starts srv serving it.
func startEnv(t testing.TB, cfg string, o adapter.Options, srv *httptest.Server) *env {
	t.Helper()
	e := &env{reg: prometheus.NewRegistry(), path: filepath.Join(t.TempDir(), "adapter.yml"), srv: srv}
	e.write(t, cfg)
	o.ConfigFile, o.Registerer = e.path, e.reg
	a, err := adapter.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.Adapter = a
	mux := http.NewServeMux()
	if err := a.Register(mux, adapter.DefaultPath); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

func (e *env) write(t testing.TB, cfg string) {
	if err := os.WriteFile(e.path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *env) webhookURL() string { return e.srv.URL + adapter.DefaultPath }

// consumer is a Flagger event-webhook receiver. fail decides whether the n-th
// request fails and how: a status, 0 to hang, -1 to drop the connection.
type consumer struct {
	*httptest.Server
	mu       sync.Mutex
	n        int
	accepted []event.Event
	fail     func(n int) int
}

func newConsumer(t testing.TB, fail func(n int) int) *consumer {
	c := &consumer{fail: fail}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *consumer) serve(w http.ResponseWriter, r *http.Request) {
	var e event.Event
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	n := c.n
	c.n++
	c.mu.Unlock()
	if c.fail != nil {
		switch code := c.fail(n); code {
		case 0:
		case -1:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		case -2:
			<-r.Context().Done()
			return
		default:
			w.WriteHeader(code)
			return
		}
	}
	c.mu.Lock()
	c.accepted = append(c.accepted, e)
	c.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (c *consumer) events() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event.Event(nil), c.accepted...)
}

func (c *consumer) requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func targetConfig(urls ...string) string {
	s := "targets:\n"
	for i, u := range urls {
		s += fmt.Sprintf("  - {name: t%d, url: %q, max_retries: 1, min_backoff: 1ms, max_backoff: 5ms, timeout: 200ms}\n", i, u)
	}
	return s
}

// alertmanagerNotifier is Alertmanager's real webhook notifier, built from an
// alertmanager.yml receiver by Alertmanager's own config loader (so its
// defaults apply), posting to url.
func alertmanagerNotifier(t testing.TB, url string, timeout time.Duration) *webhook.Notifier {
	t.Helper()
	cfg, err := amconfig.Load(fmt.Sprintf(`
route: {receiver: flagger-events}
receivers:
  - name: flagger-events
    webhook_configs:
      - url: %q
        send_resolved: true
        max_alerts: 0
        timeout: %s
`, url, model.Duration(timeout)))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL = mustURL("http://alertmanager:9093")
	n, err := webhook.New(cfg.Receivers[0].WebhookConfigs[0], tmpl, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// notifyContext carries what Alertmanager's dispatcher puts in the context.
func notifyContext(ctx notifyCtx) notifyCtx {
	ctx = notify.WithGroupKey(ctx, `{}/{severity=~"info|warning"}:{namespace="test"}`)
	ctx = notify.WithReceiverName(ctx, "flagger-events")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{"namespace": "test"})
	ctx = notify.WithRouteLabels(ctx, model.LabelSet{"team": "platform"})
	ctx = notify.WithNotificationReason(ctx, notify.ReasonNewAlertsInGroup)
	return ctx
}

// amAlert is an alert as Alertmanager holds it; resolved ones end in the past.
func amAlert(alertname, canary, severity string, start time.Time, resolved bool, extra ...string) *alert.Alert {
	a := &alert.Alert{Alert: model.Alert{
		Labels: model.LabelSet{"alertname": model.LabelValue(alertname), "canary": model.LabelValue(canary),
			"namespace": "test", "severity": model.LabelValue(severity)},
		Annotations: model.LabelSet{"summary": model.LabelValue(alertname + " " + canary)},
		StartsAt:    start,
		EndsAt:      time.Now().Add(time.Hour),
	}, UpdatedAt: start}
	for i := 0; i+1 < len(extra); i += 2 {
		a.Labels[model.LabelName(extra[i])] = model.LabelValue(extra[i+1])
	}
	if resolved {
		a.EndsAt = start.Add(time.Minute)
	}
	return a
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
