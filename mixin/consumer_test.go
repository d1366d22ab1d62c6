package mixin_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// consumerJsonnet is what a user writes after
// `jb install github.com/flagger-monitoring/flagger-monitoring@main`.
const consumerJsonnet = `
local mixin = (import 'flagger-monitoring/mixin/mixin.libsonnet') + {
  _config+:: {
    exporterSelector: 'job="my-exporter"',
    showMultiCluster: true,
    clusterLabel: 'k8s_cluster',
    canaryRollbackAlertEnabled: false,
  },
};
{
  alerts: mixin.prometheusAlerts,
  rules: mixin.prometheusRules,
  dashboards: mixin.grafanaDashboards,
}
`

// A consumer installs the repository with jb (from a local path, which jb
// vendors as a symlink named after the directory, like the repository name
// of a git install), imports the mixin and overrides _config; the overrides
// reach the rules and the dashboards.
func TestJsonnetBundlerConsumer(t *testing.T) {
	jb := testutil.Tool(t, "jb")
	jsonnet := testutil.Tool(t, "jsonnet")
	tmp := t.TempDir()
	if err := os.Symlink(testutil.RepoRoot(t), filepath.Join(tmp, "flagger-monitoring")); err != nil {
		t.Fatal(err)
	}
	consumer := filepath.Join(tmp, "consumer")
	if err := os.Mkdir(consumer, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, consumer, nil, jb, "init")
	run(t, consumer, nil, jb, "install", "../flagger-monitoring")
	if err := os.WriteFile(filepath.Join(consumer, "main.jsonnet"), []byte(consumerJsonnet), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, consumer, nil, jsonnet, "-J", "vendor", "main.jsonnet")

	var got struct {
		Alerts     ruleFile                  `json:"alerts"`
		Rules      ruleFile                  `json:"rules"`
		Dashboards map[string]map[string]any `json:"dashboards"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}

	// The overridden rules still pass promtool (JSON is YAML).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	var ruleFiles []string
	for _, k := range []string{"alerts", "rules"} {
		f := filepath.Join(tmp, k+".json")
		if err := os.WriteFile(f, raw[k], 0o644); err != nil {
			t.Fatal(err)
		}
		ruleFiles = append(ruleFiles, f)
	}
	run(t, consumer, nil, testutil.Tool(t, "promtool"), append([]string{"check", "rules"}, ruleFiles...)...)

	for _, g := range append(got.Alerts.Groups, got.Rules.Groups...) {
		if g.Name == rollbackGroup {
			t.Errorf("group %s rendered with canaryRollbackAlertEnabled: false", g.Name)
		}
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			if strings.Contains(r.Expr, `job="flagger-exporter"`) || !strings.Contains(r.Expr, `job="my-exporter"`) {
				t.Errorf("%s: exporterSelector override not applied:\n%s", name, r.Expr)
			}
			checkClusterJoins(t, name, r.Expr, "k8s_cluster")
			if d := r.Annotations["description"]; r.Alert != "" && strings.HasPrefix(r.Alert, "FlaggerCanary") && !strings.Contains(d, "{{ $labels.k8s_cluster }}") {
				t.Errorf("%s: description does not name the cluster with showMultiCluster: %q", name, d)
			}
		}
	}
	if len(got.Dashboards) == 0 {
		t.Fatal("no dashboards")
	}
	for file, raw := range got.Dashboards {
		d := dashboard{File: file, JSON: raw}
		for _, v := range d.variables() {
			if str(v, "name") == "cluster" {
				if h, _ := v["hide"].(float64); h != 0 {
					t.Errorf("%s: cluster variable hidden (hide %v) with showMultiCluster", file, v["hide"])
				}
				if !strings.Contains(str(v, "query"), "k8s_cluster)") {
					t.Errorf("%s: cluster variable does not read clusterLabel: %q", file, str(v, "query"))
				}
			}
		}
		for _, p := range d.panels() {
			for _, tg := range targets(p) {
				expr := str(tg, "expr")
				if _, err := promqlParser.ParseExpr(substituteGrafanaVariables(expr)); err != nil {
					t.Errorf("%s panel %q: %v\n%s", file, str(p, "title"), err, expr)
				}
				if strings.Contains(expr, "flagger_canary_") && !strings.Contains(expr, `k8s_cluster="$cluster"`) {
					t.Errorf("%s panel %q: query ignores the cluster variable: %s", file, str(p, "title"), expr)
				}
				if strings.Contains(expr, `job="flagger-exporter"`) {
					t.Errorf("%s panel %q: exporterSelector override not applied: %s", file, str(p, "title"), expr)
				}
			}
		}
	}
}

// checkClusterJoins fails when a join or aggregation of an expression keeps
// canaries or namespaces apart without the cluster label: every `on (...)`
// and `by (...)` that names namespace or canary also names cluster. (The
// phase code's join on phase alone, with a constant vector, is not one of
// those.)
func checkClusterJoins(t *testing.T, where, expr, cluster string) {
	t.Helper()
	e, err := promqlParser.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	needs := func(ls []string) bool {
		return (slices.Contains(ls, "namespace") || slices.Contains(ls, "canary")) && !slices.Contains(ls, cluster)
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.BinaryExpr:
			if m := n.VectorMatching; m != nil && m.On && needs(m.MatchingLabels) {
				t.Errorf("%s: join on (%s) without %s:\n%s", where, strings.Join(m.MatchingLabels, ", "), cluster, expr)
			}
		case *parser.AggregateExpr:
			if !n.Without && needs(n.Grouping) {
				t.Errorf("%s: aggregation by (%s) without %s:\n%s", where, strings.Join(n.Grouping, ", "), cluster, expr)
			}
		}
		return nil
	})
}
