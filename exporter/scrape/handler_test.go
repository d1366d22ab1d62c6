package scrape

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

type fixed []*exposition.Canary

func (f fixed) Snapshot() []*exposition.Canary { return f }

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
	zr, err := gzip.NewReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
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
