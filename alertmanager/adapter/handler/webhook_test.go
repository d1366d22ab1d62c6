package handler_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/handler"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

type fixture struct {
	srv    *httptest.Server
	reg    *prometheus.Registry
	logs   *testutil.SyncBuffer
	status atomic.Int32 // what the target answers
	hits   atomic.Int32
}

func newFixture(t *testing.T, extra string) *fixture {
	f := &fixture{reg: prometheus.NewRegistry(), logs: &testutil.SyncBuffer{}}
	f.status.Store(200)
	consumer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.hits.Add(1)
		w.WriteHeader(int(f.status.Load()))
	}))
	t.Cleanup(consumer.Close)
	c, err := config.Parse([]byte(extra + `
targets:
  - name: consumer
    url: ` + consumer.URL + `/s3cret
    max_retries: 1
    min_backoff: 1ms
    max_backoff: 2ms
`))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := config.Compile(c, config.Identity{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	logger := log.NewLogfmtLogger(f.logs)
	h := handler.NewWebhook(func() *config.Runtime { return rt }, deliver.New(logger, f.reg), logger, f.reg)
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) post(t *testing.T, contentType string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func fixtureBody(t *testing.T, name string) []byte {
	b, err := os.ReadFile("../testdata/webhook/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRefusesGarbageWith4xx(t *testing.T) {
	f := newFixture(t, "global: {max_body_bytes: 4096}")
	valid := fixtureBody(t, "webhook-v0.31-1.json")
	for _, tc := range []struct {
		name, ct string
		body     []byte
		code     int
		want     string
	}{
		{"no content type", "", valid, 415, "missing Content-Type"},
		{"form", "application/x-www-form-urlencoded", valid, 415, "unsupported Content-Type"},
		{"too big", "application/json", bytes.Repeat([]byte(" "), 5000), 413, "max_body_bytes (4096 bytes)"},
		{"not JSON", "application/json", []byte("<xml/>"), 400, "invalid JSON at offset"},
		{"wrong version", "application/json", bytes.Replace(valid, []byte(`"version": "4"`), []byte(`"version": "5"`), 1), 400, `unsupported "version" "5"`},
		{"no alerts", "application/json", []byte(`{"version":"4"}`), 400, `missing "alerts"`},
		{"empty", "application/json", nil, 400, "empty body"},
	} {
		code, body := f.post(t, tc.ct, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want %d saying %q", tc.name, code, body, tc.code, tc.want)
		}
	}
	if f.hits.Load() != 0 {
		t.Error("garbage reached the target")
	}
	resp, _ := http.Get(f.srv.URL)
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if got := value(t, f.reg, "flagger_event_adapter_requests_total", "code", "400"); got != 4 {
		t.Errorf("requests_total{code=400} = %v", got)
	}
}

func TestDeliversAndAnswers200(t *testing.T) {
	f := newFixture(t, "")
	code, body := f.post(t, "application/json; charset=utf-8", fixtureBody(t, "am-0.34-route-labels-mixed.json"))
	var resp handler.Response
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("%d %q: %v", code, body, err)
	}
	// Four alerts, one of them a resolved lifecycle step: three events.
	if code != 200 || resp.Status != "success" || resp.Events != 3 || resp.Targets[0].Delivered != 3 || f.hits.Load() != 3 {
		t.Errorf("%d %s", code, body)
	}
	if got := value(t, f.reg, "flagger_event_adapter_alerts_received_total", "status", "firing"); got != 3 {
		t.Errorf("alerts_received_total{firing} = %v", got)
	}
}

func TestRejectedAlertsAre2xxAndReportedOnce(t *testing.T) {
	f := newFixture(t, "")
	code, body := f.post(t, "application/json", fixtureBody(t, "am-0.34-rejects.json"))
	if code != 200 || !strings.Contains(body, `"rejected":2`) {
		t.Fatalf("%d %s", code, body)
	}
	if n := strings.Count(f.logs.String(), "without a canary name or namespace"); n != 1 {
		t.Errorf("want one warning per request, got %d:\n%s", n, f.logs)
	}
	for reason, want := range map[string]float64{"missing_name": 1, "missing_namespace": 1} {
		if got := value(t, f.reg, "flagger_event_adapter_alerts_rejected_total", "reason", reason); got != want {
			t.Errorf("rejected{%s} = %v", reason, got)
		}
	}
	if got := value(t, f.reg, "flagger_event_adapter_alerts_truncated_total"); got != 3 {
		t.Errorf("truncated = %v", got)
	}
}

func TestTargetFailureAnswers503(t *testing.T) {
	f := newFixture(t, "")
	f.status.Store(500)
	code, body := f.post(t, "application/json", fixtureBody(t, "webhook-v0.31-2.json"))
	if code != 503 || !strings.Contains(body, `"status":"retry"`) || !strings.Contains(body, `"pending":1`) {
		t.Fatalf("%d %s", code, body)
	}
	if strings.Contains(body, "s3cret") || strings.Contains(f.logs.String(), "s3cret") {
		t.Error("target URL leaked")
	}
	f.status.Store(400)
	if code, body := f.post(t, "application/json", fixtureBody(t, "webhook-v0.31-2.json")); code != 200 || !strings.Contains(body, `"refused":1`) {
		t.Fatalf("a 400 from the target is final and answered 200: %d %s", code, body)
	}
}

func TestMetricNames(t *testing.T) {
	f := newFixture(t, "")
	f.post(t, "application/json", fixtureBody(t, "webhook-v0.31-1.json"))
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
		if !strings.HasPrefix(mf.GetName(), "flagger_event_adapter_") {
			t.Errorf("metric %s lacks the prefix", mf.GetName())
		}
	}
	for _, n := range []string{
		"requests_total", "request_duration_seconds", "alerts_received_total", "alerts_rejected_total",
		"events_sent_total", "delivery_duration_seconds", "idempotency_entries",
	} {
		if !have["flagger_event_adapter_"+n] {
			t.Errorf("missing flagger_event_adapter_%s", n)
		}
	}
}

func TestReloadEndpoint(t *testing.T) {
	var calls int
	var fail error
	srv := httptest.NewServer(handler.Reload(func() error { calls++; return fail }))
	defer srv.Close()
	resp, _ := http.Get(srv.URL)
	resp.Body.Close()
	if resp.StatusCode != 405 || calls != 0 {
		t.Errorf("GET reload: %d", resp.StatusCode)
	}
	resp, _ = http.Post(srv.URL, "", nil)
	resp.Body.Close()
	if resp.StatusCode != 200 || calls != 1 {
		t.Errorf("POST reload: %d", resp.StatusCode)
	}
	fail = io.ErrUnexpectedEOF
	resp, _ = http.Post(srv.URL, "", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), "unexpected EOF") {
		t.Errorf("failed reload: %d %s", resp.StatusCode, b)
	}
}

// value reads one counter series from reg.
func value(t *testing.T, reg *prometheus.Registry, name string, lv ...string) float64 {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(lv); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == lv[i] && l.GetValue() == lv[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("%s%v not found", name, lv)
	return 0
}
