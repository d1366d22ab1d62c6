// Package mixin_test checks the monitoring mixin: its rendered rule files,
// dashboards and manifests, against promtool, the PromQL parser and the
// conventions of monitoring mixins.
package mixin_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// promqlParser parses with Prometheus' defaults (no experimental functions),
// as the Prometheus that loads the rules does.
var promqlParser = parser.NewParser(parser.Options{})

// The rendered files, relative to the repository root.
const (
	rulesDir      = "rules"
	dashboardsDir = "dashboards"
	manifestsDir  = "mixin/manifests"
	testsDir      = "mixin/tests"
)

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         *string           `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// groupedRule is a rule with the group and file it comes from.
type groupedRule struct {
	rule
	Group string
	File  string
}

func repoPath(t testing.TB, elem ...string) string {
	return filepath.Join(append([]string{testutil.RepoRoot(t)}, elem...)...)
}

// files lists the regular files of a repository directory matching pattern.
func files(t testing.TB, dir, pattern string) []string {
	t.Helper()
	found, err := filepath.Glob(repoPath(t, dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatalf("no %s in %s: run `make generate`", pattern, dir)
	}
	sort.Strings(found)
	return found
}

func readYAML(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// loadRules returns every rule of every rendered rule file.
func loadRules(t testing.TB) []groupedRule {
	t.Helper()
	var all []groupedRule
	for _, f := range files(t, rulesDir, "*.yaml") {
		var rf ruleFile
		readYAML(t, f, &rf)
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				all = append(all, groupedRule{rule: r, Group: g.Name, File: filepath.Base(f)})
			}
		}
	}
	return all
}

func alerts(t testing.TB) []groupedRule {
	return rulesWhere(t, "alerting", func(r groupedRule) bool { return r.Alert != "" })
}

func records(t testing.TB) []groupedRule {
	return rulesWhere(t, "recording", func(r groupedRule) bool { return r.Record != "" })
}

// rulesWhere returns the rendered rules keep selects; none at all fails the
// test, so a rendering that lost a kind of rule cannot pass vacuously.
func rulesWhere(t testing.TB, kind string, keep func(groupedRule) bool) []groupedRule {
	t.Helper()
	var out []groupedRule
	for _, r := range loadRules(t) {
		if keep(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s rules", kind)
	}
	return out
}

// dashboard is a rendered dashboard, kept as generic JSON so that the checks
// see every field Grafana would.
type dashboard struct {
	File string
	JSON map[string]any
}

func loadDashboards(t testing.TB) []dashboard {
	t.Helper()
	var out []dashboard
	for _, f := range files(t, dashboardsDir, "*.json") {
		d := dashboard{File: filepath.Base(f)}
		readJSON(t, f, &d.JSON)
		out = append(out, d)
	}
	return out
}

// panels returns every panel, rows and the panels nested in collapsed rows
// included.
func (d dashboard) panels() []map[string]any {
	var out []map[string]any
	var walk func([]any)
	walk = func(ps []any) {
		for _, p := range ps {
			m, ok := p.(map[string]any)
			if !ok {
				continue
			}
			out = append(out, m)
			if nested, ok := m["panels"].([]any); ok {
				walk(nested)
			}
		}
	}
	ps, _ := d.JSON["panels"].([]any)
	walk(ps)
	return out
}

func (d dashboard) variables() []map[string]any {
	var out []map[string]any
	tpl, _ := d.JSON["templating"].(map[string]any)
	list, _ := tpl["list"].([]any)
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// targets returns a panel's queries.
func targets(p map[string]any) []map[string]any {
	var out []map[string]any
	ts, _ := p["targets"].([]any)
	for _, t := range ts {
		if m, ok := t.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// str reads a string at a path of keys in generic JSON, "" when absent.
func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

// run runs a tool and returns its combined output, failing the test with
// that output when it exits non-zero.
func run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// jsonnetSources lists every .jsonnet and .libsonnet file of the mixin.
func jsonnetSources(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(repoPath(t, "mixin"), func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (strings.HasSuffix(p, ".jsonnet") || strings.HasSuffix(p, ".libsonnet")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// variant is the mixin rendered with a _config override, as a jsonnet
// consumer renders it: its rule files and dashboards, unlike the committed
// files, which are the defaults.
type variant struct {
	Alerts     ruleFile                  `json:"alerts"`
	Rules      ruleFile                  `json:"rules"`
	Dashboards map[string]map[string]any `json:"dashboards"`

	raw map[string]json.RawMessage
}

// multiClusterConfig is the _config of the multi-cluster tests: dashboards
// with a cluster variable, descriptions and annotation queries naming the
// cluster (clusterLabel stays `cluster`).
const multiClusterConfig = `{ showMultiCluster: true }`

// renderVariant renders the mixin with config (a jsonnet object literal
// merged into _config).
func renderVariant(t testing.TB, config string) variant {
	t.Helper()
	src := `local m = (import 'mixin/mixin.libsonnet') + { _config+:: ` + config + ` };
{ alerts: m.prometheusAlerts, rules: m.prometheusRules, dashboards: m.grafanaDashboards }`
	out := run(t, testutil.RepoRoot(t), nil, testutil.Tool(t, "jsonnet"), "-e", src)
	var v variant
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &v.raw); err != nil {
		t.Fatal(err)
	}
	return v
}

// writeRuleFiles writes the variant's alert and recording rule files (JSON,
// which is YAML) into dir as <prefix>-alerts.yaml and <prefix>-rules.yaml.
func (v variant) writeRuleFiles(t testing.TB, dir, prefix string) []string {
	t.Helper()
	var out []string
	for _, k := range []string{"alerts", "rules"} {
		f := filepath.Join(dir, prefix+"-"+k+".yaml")
		if err := os.WriteFile(f, v.raw[k], 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// dashboards returns the variant's dashboards like loadDashboards.
func (v variant) dashboards() []dashboard {
	var out []dashboard
	for _, f := range slices.Sorted(maps.Keys(v.Dashboards)) {
		out = append(out, dashboard{File: f, JSON: v.Dashboards[f]})
	}
	return out
}
