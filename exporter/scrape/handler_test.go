package scrape

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/store"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

type fixed []*exposition.Canary

func (f fixed) Versioned() ([]*exposition.Canary, uint64) { return f, 1 }

func handler(t *testing.T) *Handler {
	reg := prometheus.NewRegistry()
	c := canary.Facts{Namespace: "ns", Name: "podinfo", TargetName: "podinfo", Phase: flagger.PhaseFailed,
		LastTransition: canary.Absent, Created: canary.Absent, Threshold: canary.Absent, AnalysisIterations: canary.Absent,
		MaxWeight: canary.Absent, StepWeight: canary.Absent, IntervalSeconds: canary.Absent, ProgressDeadlineSeconds: 600}
	return New(fixed{exposition.Prepare(c, [exposition.NumTransitionPhases]uint64{})}, exposition.All, reg, reg, log.NewNopLogger())
}

func get(t *testing.T, h http.Handler, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestScrapeServesSelfAndCanaryMetrics(t *testing.T) {
	h := handler(t)
	get(t, h, "") // the second scrape sees the first one's duration
	resp, body := get(t, h, "")
	if ct := resp.Header.Get("Content-Type"); ct != contentType {
		t.Errorf("content type %q", ct)
	}
	fams := testutil.ParseText(t, body)
	if v := testutil.Value(t, fams, "flagger_canary_status", map[string]string{"canary": "podinfo", "name": "podinfo"}); v != 2 {
		t.Errorf("status %v", v)
	}
	if h := fams["flagger_exporter_scrape_duration_seconds"]; h == nil || h.Metric[0].Histogram.GetSampleCount() != 1 {
		t.Errorf("scrape duration not observed: %v", h)
	}
}

func TestScrapeGzipWhenAsked(t *testing.T) {
	h := handler(t)
	resp, body := get(t, h, "gzip, deflate")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", resp.Header)
	}
	plain := gunzip(t, body)
	testutil.Value(t, testutil.ParseText(t, plain), "flagger_canary_status", map[string]string{"canary": "podinfo"})

	if resp, _ := get(t, h, "gzip;q=0, identity"); resp.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip;q=1.0": true, "gzip;q=0": false, "identity": false, "x-gzip": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("%q: %v", header, got)
		}
	}
}

// The compressed canary families are kept while the store does not change,
// and compressed again when it does; the self metrics are fresh every time.
func TestScrapeGzipCache(t *testing.T) {
	st := store.New()
	f := canary.Facts{Namespace: "ns", Name: "podinfo", TargetName: "podinfo", Phase: flagger.PhaseProgressing, FailedChecks: 1}
	st.Upsert(f)
	reg := prometheus.NewRegistry()
	h := New(st, exposition.All, reg, reg, log.NewNopLogger())
	scrape := func() (map[string]*dto.MetricFamily, []byte) {
		t.Helper()
		_, body := get(t, h, "gzip")
		return testutil.ParseText(t, gunzip(t, body)), h.gzBody
	}
	_, first := scrape()
	fams, second := scrape()
	if &first[0] != &second[0] {
		t.Error("an unchanged store's families compressed again")
	}
	// Both members are read: the self metrics of the first member (the
	// second scrape sees the first's duration) and the canaries.
	if n := fams["flagger_exporter_scrape_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("scrape duration count %d, want 1", n)
	}
	if v := testutil.Value(t, fams, "flagger_canary_status_failed_checks", map[string]string{"canary": "podinfo"}); v != 1 {
		t.Errorf("failed checks %v, want 1", v)
	}
	f.FailedChecks = 2
	st.Upsert(f)
	fams, third := scrape()
	if &third[0] == &second[0] {
		t.Error("a changed store served from the cache")
	}
	if v := testutil.Value(t, fams, "flagger_canary_status_failed_checks", map[string]string{"canary": "podinfo"}); v != 2 {
		t.Errorf("failed checks %v after the change, want 2", v)
	}
	st.Delete("ns", "podinfo")
	if fams, _ := scrape(); fams["flagger_canary_status"] != nil {
		t.Error("a deleted canary still served")
	}
	// Plain and compressed, the same canary families.
	st.Upsert(f)
	_, plain := get(t, h, "")
	_, body := get(t, h, "gzip")
	if a, b := canaryLines(plain), canaryLines(gunzip(t, body)); a == "" || a != b {
		t.Errorf("canary families differ:\nplain\n%s\ngzip\n%s", a, b)
	}
}

// gunzip reads a gzip body whole, every member of it.
func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func canaryLines(text []byte) string {
	var out []string
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, "flagger_canary_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
