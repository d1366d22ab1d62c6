package mixin_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

func TestRuleFilesPassPromtoolCheck(t *testing.T) {
	promtool := testutil.Tool(t, "promtool")
	args := append([]string{"check", "rules", "--lint=all", "--lint-fatal"}, files(t, rulesDir, "*.yaml")...)
	run(t, testutil.RepoRoot(t), nil, promtool, args...)
}

// The unit tests in mixin/tests run against the rendered rule files, so they
// test what users load.
func TestPromtoolUnitTests(t *testing.T) {
	promtool := testutil.Tool(t, "promtool")
	args := append([]string{"test", "rules"}, files(t, testsDir, "*.yaml")...)
	start := time.Now()
	run(t, testutil.RepoRoot(t), nil, promtool, args...)
	t.Logf("promtool test rules: %d files in %v", len(args)-2, time.Since(start).Round(time.Millisecond))
}

// promtool's unit-test file format, as far as the coverage check needs it.
type unitTestFile struct {
	RuleFiles          []string   `yaml:"rule_files"`
	EvaluationInterval string     `yaml:"evaluation_interval"`
	Tests              []unitTest `yaml:"tests"`
}

type unitTest struct {
	Name        string `yaml:"name"`
	Interval    string `yaml:"interval"`
	InputSeries []struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	} `yaml:"input_series"`
	AlertRuleTests []struct {
		EvalTime  string `yaml:"eval_time"`
		Alertname string `yaml:"alertname"`
		ExpAlerts []struct {
			ExpLabels      map[string]string `yaml:"exp_labels"`
			ExpAnnotations map[string]string `yaml:"exp_annotations"`
		} `yaml:"exp_alerts"`
	} `yaml:"alert_rule_test"`
	PromQLExprTests []struct {
		Expr       string `yaml:"expr"`
		EvalTime   string `yaml:"eval_time"`
		ExpSamples []struct {
			Labels string  `yaml:"labels"`
			Value  float64 `yaml:"value"`
		} `yaml:"exp_samples"`
	} `yaml:"promql_expr_test"`
}

func duration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return time.Duration(d)
}

// Every alert has a test where it fires, one where it is pending inside its
// `for` (an empty expectation after the condition must already hold), and
// one where it has resolved; every recording rule is queried by a test.
// Alerts on canaries fire with the labels canary and namespace.
func TestUnitTestsCoverEveryRule(t *testing.T) {
	type coverage struct{ firing, pending, resolved, before bool }
	cov := map[string]*coverage{}
	fors := forDurations(t)
	queried := map[string]bool{}
	var exprs []string

	for _, f := range files(t, testsDir, "*.yaml") {
		var tf unitTestFile
		readYAML(t, f, &tf)
		for _, rf := range tf.RuleFiles {
			if !strings.HasPrefix(filepath.ToSlash(rf), "../../"+rulesDir+"/") {
				t.Errorf("%s: rule file %s is not a rendered one under %s/", filepath.Base(f), rf, rulesDir)
			}
		}
		for _, tc := range tf.Tests {
			firingAt := map[string][]time.Duration{}
			emptyAt := map[string][]time.Duration{}
			for _, a := range tc.AlertRuleTests {
				at := duration(t, a.EvalTime)
				if len(a.ExpAlerts) > 0 {
					firingAt[a.Alertname] = append(firingAt[a.Alertname], at)
				} else {
					emptyAt[a.Alertname] = append(emptyAt[a.Alertname], at)
				}
				for _, e := range a.ExpAlerts {
					if strings.HasPrefix(a.Alertname, "FlaggerCanary") && (e.ExpLabels["canary"] == "" || e.ExpLabels["namespace"] == "") {
						t.Errorf("%s %q: %s fires without canary and namespace labels: %v", filepath.Base(f), tc.Name, a.Alertname, e.ExpLabels)
					}
				}
			}
			for name, fired := range firingAt {
				c := cov[name]
				if c == nil {
					c = &coverage{}
					cov[name] = c
				}
				c.firing = true
				forDur, ok := fors[name]
				if !ok {
					t.Fatalf("%s: unit test for unknown alert %s", filepath.Base(f), name)
				}
				for _, fa := range fired {
					for _, ea := range emptyAt[name] {
						switch {
						case ea > fa:
							c.resolved = true
						case forDur > 0 && ea >= fa-forDur:
							c.pending = true
						default:
							c.before = true
						}
					}
				}
			}
			for _, e := range tc.PromQLExprTests {
				exprs = append(exprs, e.Expr)
			}
		}
	}

	for _, a := range alerts(t) {
		c := cov[a.Alert]
		switch {
		case c == nil || !c.firing:
			t.Errorf("alert %s: no unit test where it fires", a.Alert)
		case !c.resolved:
			t.Errorf("alert %s: no unit test where it has resolved (an empty expectation after a firing one)", a.Alert)
		case fors[a.Alert] > 0 && !c.pending:
			t.Errorf("alert %s: no unit test inside its `for` (an empty expectation less than `for` before a firing one)", a.Alert)
		case fors[a.Alert] == 0 && !c.before:
			t.Errorf("alert %s: no unit test before it fires", a.Alert)
		}
	}
	for _, r := range records(t) {
		for _, e := range exprs {
			if strings.Contains(e, r.Record) {
				queried[r.Record] = true
			}
		}
		if !queried[r.Record] {
			t.Errorf("recording rule %s: no promql_expr_test queries it", r.Record)
		}
	}
}

// forDurations maps every alert to its `for` (0 when unset).
func forDurations(t *testing.T) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	for _, a := range alerts(t) {
		if a.For != nil {
			out[a.Alert] = duration(t, *a.For)
		} else {
			out[a.Alert] = 0
		}
	}
	return out
}

// A guard against a typo in a test file silently testing nothing: every
// alertname a test names exists.
func TestUnitTestsNameExistingAlerts(t *testing.T) {
	known := map[string]bool{}
	for _, a := range alerts(t) {
		known[a.Alert] = true
	}
	for _, f := range files(t, testsDir, "*.yaml") {
		var tf unitTestFile
		readYAML(t, f, &tf)
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTests {
				if !known[a.Alertname] {
					t.Errorf("%s %q: unknown alert %s", filepath.Base(f), tc.Name, a.Alertname)
				}
			}
		}
	}
}
