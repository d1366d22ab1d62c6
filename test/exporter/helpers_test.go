package exporter_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// exporter is a running flagger-exporter child process.
type exporter struct {
	*harness.Process
	url string
}

func startExporter(t *testing.T, kubeconfig string, args ...string) *exporter {
	t.Helper()
	addr := harness.FreeAddr(t)
	bin := harness.Build(t, "flagger-exporter")
	args = append([]string{"--kubeconfig", kubeconfig, "--web.listen-address", addr, "--log.level", "debug"}, args...)
	p := harness.StartProcess(t, bin, args...)
	e := &exporter{Process: p, url: "http://" + addr}
	harness.Eventually(t, 20*time.Second, func() string {
		if p.Exited() {
			t.Fatalf("exporter exited:\n%s", p.Output())
		}
		if s, _ := harness.Get(e.url + "/-/healthy"); s != http.StatusOK {
			return "exporter not healthy"
		}
		return ""
	})
	return e
}

func (e *exporter) waitReady(t *testing.T) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, func() string {
		if s, b := harness.Get(e.url + "/-/ready"); s != http.StatusOK {
			return fmt.Sprintf("not ready: %d %s", s, b)
		}
		return ""
	})
}

// expect polls /metrics until check passes on a scrape.
func (e *exporter) expect(t *testing.T, what string, check func(fams map[string]*dto.MetricFamily) string) {
	t.Helper()
	e.expectWithin(t, 15*time.Second, what, check)
}

// expectWithin is expect with a deadline, and returns how long it took.
func (e *exporter) expectWithin(t *testing.T, d time.Duration, what string, check func(fams map[string]*dto.MetricFamily) string) time.Duration {
	t.Helper()
	start := time.Now()
	harness.Eventually(t, d, func() string {
		fams, err := harness.Scrape(t, e.url+"/metrics")
		if err != nil {
			return err.Error()
		}
		if r := check(fams); r != "" {
			return what + ": " + r
		}
		return ""
	})
	return time.Since(start)
}

// counter is the value of one labelled series of family, 0 when absent.
func (e *exporter) counter(t *testing.T, family, label, value string) float64 {
	t.Helper()
	fams, err := harness.Scrape(t, e.url+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v := testutil.Values(fams, family, map[string]string{label: value}); len(v) == 1 {
		return v[0]
	}
	return 0
}

// series returns how many series across all families carry canary=name in ns.
func series(fams map[string]*dto.MetricFamily, ns, name string) int {
	n := 0
	for fam := range fams {
		if strings.HasPrefix(fam, "flagger_canary_") {
			n += len(testutil.Values(fams, fam, map[string]string{"namespace": ns, "canary": name}))
		}
	}
	return n
}

// want compares one series' value, or reports what differs.
func want(fams map[string]*dto.MetricFamily, family string, labels map[string]string, v float64) string {
	got := testutil.Values(fams, family, labels)
	if len(got) != 1 || got[0] != v {
		return fmt.Sprintf("%s%v = %v, want %v", family, labels, got, v)
	}
	return ""
}

func all(checks ...string) string {
	for _, c := range checks {
		if c != "" {
			return c
		}
	}
	return ""
}

func createNamespaces(t *testing.T, c *harness.Cluster, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.Kube.CoreV1().Namespaces().Create(context.Background(), harness.Namespace(n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// twoCanaries starts a cluster with canaries a (Progressing at weight 20)
// and b (never written by Flagger) in namespace test.
func twoCanaries(t *testing.T) *harness.Cluster {
	t.Helper()
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	createNamespaces(t, c, "test")
	a := c.CreateCanary(t, "test", "a", "a")
	c.CreateCanary(t, "test", "b", "b")
	c.SetCanaryStatus(t, a, map[string]any{"phase": "Progressing", "canaryWeight": int64(20)})
	return c
}

func deleteOptions() metav1.DeleteOptions { return metav1.DeleteOptions{} }
