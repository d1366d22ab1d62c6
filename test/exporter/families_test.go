package exporter_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// TestMetricDenylist: the binary writes every canary family but the denied
// ones (kube-state-metrics' --metric-denylist), keeps its own, and refuses a
// pattern that names no family before it starts.
func TestMetricDenylist(t *testing.T) {
	c := twoCanaries(t)
	e := startExporter(t, c.Kubeconfig, "--metric-denylist=flagger_canary_status_.*,flagger_canary_transitions_total")
	e.waitReady(t)
	e.expect(t, "denied families gone", func(f map[string]*dto.MetricFamily) string {
		for name := range f {
			if strings.HasPrefix(name, "flagger_canary_status_") || name == "flagger_canary_transitions_total" {
				return "denied family written: " + name
			}
		}
		if len(testutil.Values(f, "flagger_exporter_canaries", nil)) != 1 {
			return "the exporter's own families went too"
		}
		return all(
			want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 0),
			want(f, "flagger_canary_weight", ids("test", "a", "workload", "a"), 20),
		)
	})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // a regression would serve for ever
	defer cancel()
	out, err := exec.CommandContext(ctx, harness.Build(t, "flagger-exporter"), "--kubeconfig", c.Kubeconfig, "--metric-allowlist=flagger_canary_statsu").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "matches no canary family") {
		t.Errorf("a typo in --metric-allowlist: %v\n%s", err, out)
	}
}
