package exporter_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// TestManifestsAndRBAC applies the shipped manifests and runs the exporter as
// their ServiceAccounts: the ClusterRole variant sees every namespace, the
// Role variant with --namespace sees its own, and nothing more is granted.
func TestManifestsAndRBAC(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD(), harness.PrometheusOperatorCRD(t, "monitoring.coreos.com_servicemonitors.yaml"))
	createNamespaces(t, c, "flagger-system", "team-a", "team-b")
	c.CreateCanary(t, "team-a", "a", "a")
	c.CreateCanary(t, "team-b", "b", "b")
	deploy := filepath.Join(testutil.RepoRoot(t), "deploy", "exporter")

	for _, dir := range []string{deploy, filepath.Join(deploy, "namespaced")} {
		if out, errOut, err := c.Kubectl(t, "", nil, "apply", "--dry-run=server", "-k", dir); err != nil {
			t.Fatalf("dry-run of %s rejected: %v\n%s%s", dir, err, out, errOut)
		}
		if out, errOut, err := c.Kubectl(t, "", nil, "apply", "-k", dir); err != nil {
			t.Fatalf("apply %s: %v\n%s%s", dir, err, out, errOut)
		}
	}

	cluster := c.WriteKubeconfig(t, "cluster-sa", c.AsServiceAccount("flagger-system", "flagger-exporter"))
	// Least privilege: the ServiceAccount can read canaries and nothing else.
	if out, _, err := c.Kubectl(t, cluster, nil, "auth", "can-i", "list", "canaries.flagger.app", "-A"); err != nil || strings.TrimSpace(out) != "yes" {
		t.Errorf("cluster SA cannot list canaries: %v %q", err, out)
	}
	for _, verb := range []string{"create", "update", "delete", "patch"} {
		if out, _, _ := c.Kubectl(t, cluster, nil, "auth", "can-i", verb, "canaries.flagger.app", "-A"); strings.TrimSpace(out) != "no" {
			t.Errorf("cluster SA may %s canaries", verb)
		}
	}
	if out, _, _ := c.Kubectl(t, cluster, nil, "auth", "can-i", "list", "secrets", "-A"); strings.TrimSpace(out) != "no" {
		t.Error("cluster SA may list secrets")
	}
	// Events (the per-step relay): read, never written.
	if out, _, _ := c.Kubectl(t, cluster, nil, "auth", "can-i", "watch", "events", "-A"); strings.TrimSpace(out) != "yes" {
		t.Error("cluster SA cannot watch events")
	}
	for _, verb := range []string{"create", "patch", "delete"} {
		if out, _, _ := c.Kubectl(t, cluster, nil, "auth", "can-i", verb, "events", "-A"); strings.TrimSpace(out) != "no" {
			t.Errorf("cluster SA may %s events", verb)
		}
	}

	e := startExporter(t, cluster)
	e.waitReady(t)
	e.expect(t, "cluster-wide SA", func(f map[string]*dto.MetricFamily) string {
		if v := testutil.Values(f, "flagger_exporter_event_watch_errors_total", map[string]string{"reason": "forbidden"}); len(v) != 1 || v[0] != 0 {
			return fmt.Sprintf("the ClusterRole does not let it watch Events: %v", v)
		}
		return all(
			want(f, "flagger_canary_status", ids("team-a", "a"), 1),
			want(f, "flagger_canary_status", ids("team-b", "b"), 1),
		)
	})

	namespaced := c.WriteKubeconfig(t, "team-a-sa", c.AsServiceAccount("team-a", "flagger-exporter"))
	scoped := startExporter(t, namespaced, "--namespace", "team-a")
	scoped.waitReady(t)
	scoped.expect(t, "namespaced SA", func(f map[string]*dto.MetricFamily) string {
		if series(f, "team-b", "b") != 0 {
			return "sees another namespace"
		}
		if v := testutil.Values(f, "flagger_exporter_event_watch_errors_total", map[string]string{"reason": "forbidden"}); len(v) != 1 || v[0] != 0 {
			return fmt.Sprintf("the Role does not let it watch its Events: %v", v)
		}
		return want(f, "flagger_canary_status", ids("team-a", "a"), 1)
	})

	// Without --namespace the Role is not enough: forbidden, reported, not ready.
	wide := startExporter(t, namespaced)
	wide.expect(t, "forbidden reported", func(f map[string]*dto.MetricFamily) string {
		if v := testutil.Values(f, "flagger_exporter_watch_errors_total", map[string]string{"reason": "forbidden"}); len(v) != 1 || v[0] < 1 {
			return "no forbidden watch error"
		}
		return ""
	})
	time.Sleep(500 * time.Millisecond)
	if s, body := harness.Get(wide.url + "/-/ready"); s == 200 || !strings.Contains(string(body), "forbidden") {
		t.Errorf("ready although forbidden: %d %s", s, body)
	}
	if !strings.Contains(wide.Output(), "grant get, list and watch") {
		t.Errorf("forbidden not explained in the log:\n%s", wide.Output())
	}
}
