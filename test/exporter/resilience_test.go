package exporter_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// TestCRDInstalledAfterStart: with no Canary CRD the exporter stays up, is not
// ready, says so once with the fix, counts the failures, and picks canaries up
// as soon as the CRD exists, without a restart.
func TestCRDInstalledAfterStart(t *testing.T) {
	c := harness.Start(t)
	createNamespaces(t, c, "test")
	e := startExporter(t, c.Kubeconfig)

	e.expect(t, "crd_missing counted", func(f map[string]*dto.MetricFamily) string {
		if v := testutil.Values(f, "flagger_exporter_watch_errors_total", map[string]string{"reason": "crd_missing"}); len(v) != 1 || v[0] < 2 {
			return fmt.Sprintf("watch errors %v", v)
		}
		return want(f, "flagger_exporter_cache_synced", nil, 0)
	})
	if s, body := harness.Get(e.url + "/-/ready"); s != http.StatusServiceUnavailable || !strings.Contains(string(body), "crd_missing") {
		t.Errorf("ready without the CRD: %d %s", s, body)
	}
	if n := strings.Count(e.Output(), "cannot list or watch canaries"); n != 1 {
		t.Errorf("want the problem logged once, got %d times:\n%s", n, e.Output())
	}
	if !strings.Contains(e.Output(), "install Flagger's CRDs") {
		t.Errorf("log does not say how to fix it:\n%s", e.Output())
	}

	c.InstallCRDs(t, harness.CanaryCRD())
	c.CreateCanary(t, "test", "podinfo", "podinfo")
	e.waitReady(t)
	e.expect(t, "canary after CRD install", func(f map[string]*dto.MetricFamily) string {
		return all(
			want(f, "flagger_canary_status", ids("test", "podinfo", "name", "podinfo"), 1),
			want(f, "flagger_exporter_cache_synced", nil, 1),
		)
	})
	if e.Exited() {
		t.Fatal("exporter restarted or exited")
	}
}

// TestAPIServerRestart: the API server goes away and comes back on the same
// etcd; the exporter keeps serving, reconnects and reflects what changed.
func TestAPIServerRestart(t *testing.T) {
	c := twoCanaries(t)
	e := startExporter(t, c.Kubeconfig)
	e.waitReady(t)
	e.expect(t, "before restart", func(f map[string]*dto.MetricFamily) string {
		return want(f, "flagger_canary_weight", ids("test", "a", "workload", "a"), 20)
	})

	c.StopAPIServer(t)
	// While the API server is down the last known state is still served.
	time.Sleep(2 * time.Second)
	e.expect(t, "during outage", func(f map[string]*dto.MetricFamily) string {
		return want(f, "flagger_canary_weight", ids("test", "a", "workload", "a"), 20)
	})
	c.StartAPIServer(t)

	c.SetCanaryStatus(t, c.GetCanary(t, "test", "a"), map[string]any{"phase": "Failed", "canaryWeight": int64(0), "failedChecks": int64(5)})
	if err := c.Dynamic.Resource(kube.CanaryResource).Namespace("test").Delete(t.Context(), "b", deleteOptions()); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "after restart", func(f map[string]*dto.MetricFamily) string {
		if n := series(f, "test", "b"); n != 0 {
			return "deleted canary b still exported"
		}
		return all(
			want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 2),
			want(f, "flagger_canary_weight", ids("test", "a", "workload", "a"), 0),
			want(f, "flagger_canary_transitions_total", ids("test", "a", "phase", "Failed"), 1),
		)
	})
	e.waitReady(t)
}
