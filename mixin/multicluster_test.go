package mixin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// Many clusters in one view (a federating Prometheus, Thanos, Mimir): every
// series carries the cluster label, and the same canary — namespace, name,
// job and instance alike — may run in every cluster. The unit tests in
// mixin/tests/multicluster/ run on the mixin rendered with showMultiCluster,
// which the Go test writes next to a copy of each test file as
// multicluster-alerts.yaml and multicluster-rules.yaml (their rule_files).
const multiClusterTestsDir = "mixin/tests/multicluster"

func TestMultiClusterUnitTests(t *testing.T) {
	v := renderVariant(t, multiClusterConfig)
	dir := t.TempDir()
	v.writeRuleFiles(t, dir, "multicluster")
	args := []string{"test", "rules"}
	for _, f := range files(t, multiClusterTestsDir, "*.yaml") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, dst)
	}
	run(t, dir, nil, testutil.Tool(t, "promtool"), args...)
}

// Every alert of the multi-cluster rendering is expected to fire in cluster
// "a" and, in the same or another test, in cluster "b", each time with its
// cluster label; every recording rule is queried with results for both.
func TestMultiClusterUnitTestsCoverEveryRule(t *testing.T) {
	v := renderVariant(t, multiClusterConfig)
	firedIn := map[string]map[string]bool{}    // alert → clusters
	recordedIn := map[string]map[string]bool{} // query → clusters
	for _, f := range files(t, multiClusterTestsDir, "*.yaml") {
		var tf unitTestFile
		readYAML(t, f, &tf)
		want := []string{"multicluster-alerts.yaml", "multicluster-rules.yaml"}
		for _, rf := range tf.RuleFiles {
			if rf != want[0] && rf != want[1] {
				t.Errorf("%s: rule file %s, want the rendered %v", filepath.Base(f), rf, want)
			}
		}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTests {
				for _, e := range a.ExpAlerts {
					c := e.ExpLabels["cluster"]
					if c == "" {
						t.Errorf("%s %q: %s at %s expected without a cluster label: %v", filepath.Base(f), tc.Name, a.Alertname, a.EvalTime, e.ExpLabels)
						continue
					}
					if firedIn[a.Alertname] == nil {
						firedIn[a.Alertname] = map[string]bool{}
					}
					firedIn[a.Alertname][c] = true
				}
			}
			for _, e := range tc.PromQLExprTests {
				for _, s := range e.ExpSamples {
					for _, c := range []string{"a", "b"} {
						if strings.Contains(s.Labels, `cluster="`+c+`"`) {
							if recordedIn[e.Expr] == nil {
								recordedIn[e.Expr] = map[string]bool{}
							}
							recordedIn[e.Expr][c] = true
						}
					}
				}
			}
		}
	}
	for _, g := range v.Alerts.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if !firedIn[r.Alert]["a"] || !firedIn[r.Alert]["b"] {
				t.Errorf("alert %s: no multi-cluster unit test where it fires in cluster a and in cluster b (fired in %v)", r.Alert, firedIn[r.Alert])
			}
		}
	}
	for _, g := range append(v.Rules.Groups, v.Alerts.Groups...) {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			ok := false
			for q, cs := range recordedIn {
				if strings.Contains(q, r.Record) && cs["a"] && cs["b"] {
					ok = true
				}
			}
			if !ok {
				t.Errorf("recording rule %s: no multi-cluster promql_expr_test with results for cluster a and cluster b", r.Record)
			}
		}
	}
}

// The rendered rules are the same with or without showMultiCluster: every
// join and aggregation that keeps canaries or namespaces apart does so per
// cluster too (harmless in a Prometheus whose series have no cluster label).
func TestRulesJoinPerCluster(t *testing.T) {
	for _, r := range loadRules(t) {
		checkClusterJoins(t, r.File+" "+r.Alert+r.Record, r.Expr, "cluster")
	}
}
