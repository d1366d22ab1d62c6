package mixin_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/events"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
)

// Series the exporter produces besides its canary families: its own
// metrics (a histogram is three series names) and the scrape's `up`.
var exporterSelfMetrics = []string{
	"up",
	"flagger_exporter_build_info",
	"flagger_exporter_cache_synced",
	"flagger_exporter_watch_errors_total",
	"flagger_exporter_decode_errors_total",
	"flagger_exporter_scrape_duration_seconds_bucket",
	"flagger_exporter_scrape_duration_seconds_sum",
	"flagger_exporter_scrape_duration_seconds_count",
	"flagger_exporter_canaries",
}

// Flagger's own metrics (FLAGGER-FACTS), which dashboards in the wild and
// canary_rollback query.
var flaggerMetrics = []string{
	"flagger_info",
	"flagger_canary_status",
	"flagger_canary_weight",
	"flagger_canary_total",
	"flagger_canary_duration_seconds_bucket",
	"flagger_canary_duration_seconds_sum",
	"flagger_canary_duration_seconds_count",
	"flagger_canary_metric_analysis",
	"flagger_canary_successes_total",
	"flagger_canary_failures_total",
}

// knownMetrics: what the exporter writes (its family list is the single
// source), Flagger's metrics, and the mixin's recording rules.
func knownMetrics(t *testing.T) map[string]string {
	known := map[string]string{}
	for _, f := range exposition.Families {
		known[f.Name] = "exporter"
	}
	for _, m := range exporterSelfMetrics {
		known[m] = "exporter"
	}
	known[events.LastStepMetric] = "exporter"
	for _, m := range flaggerMetrics {
		if _, ok := known[m]; !ok {
			known[m] = "flagger"
		}
	}
	for _, r := range records(t) {
		known[r.Record] = "recording rule"
	}
	return known
}

// query is one PromQL expression of the mixin and where it comes from.
type query struct {
	where     string
	expr      string
	dashboard bool
}

// Grafana's variables, replaced before parsing. $__rate_interval becomes a
// duration used nowhere else so that the check below can tell it apart.
const rateIntervalStandIn = 7331 * time.Second

var grafanaVariable = regexp.MustCompile(`\$\{?(\w+)(?::\w+)?\}?`)

func substituteGrafanaVariables(expr string) string {
	return grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		switch strings.Trim(grafanaVariable.FindStringSubmatch(v)[1], "{}") {
		case "__rate_interval":
			return fmt.Sprintf("%ds", int(rateIntervalStandIn.Seconds()))
		case "__interval", "__range":
			return "1h"
		case "__range_s", "__interval_ms", "__range_ms":
			return "3600"
		default:
			return "x"
		}
	})
}

var labelValues = regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)

func queries(t *testing.T) []query {
	var out []query
	for _, r := range loadRules(t) {
		out = append(out, query{where: r.File + " " + r.Alert + r.Record, expr: r.Expr})
	}
	for _, d := range loadDashboards(t) {
		for _, p := range d.panels() {
			for _, tg := range targets(p) {
				out = append(out, query{
					where:     fmt.Sprintf("%s panel %q target %s", d.File, str(p, "title"), str(tg, "refId")),
					expr:      str(tg, "expr"),
					dashboard: true,
				})
			}
		}
		for _, v := range d.variables() {
			if str(v, "type") != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(str(v, "query"))
			if m == nil {
				t.Errorf("%s variable %s: query %q is not label_values(selector, label)", d.File, str(v, "name"), str(v, "query"))
				continue
			}
			out = append(out, query{where: fmt.Sprintf("%s variable %s", d.File, str(v, "name")), expr: m[1], dashboard: true})
		}
	}
	return out
}

// Every expression parses, and every metric it reads is one that exists.
func TestQueriesParseAndUseKnownMetrics(t *testing.T) {
	known := knownMetrics(t)
	used := map[string]bool{}
	for _, q := range queries(t) {
		if q.expr == "" {
			t.Errorf("%s: empty expression", q.where)
			continue
		}
		expr, err := promqlParser.ParseExpr(substituteGrafanaVariables(q.expr))
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			name := metricName(vs)
			if _, ok := known[name]; !ok {
				t.Errorf("%s: unknown metric %q", q.where, name)
			}
			used[name] = true
			return nil
		})
	}
	// The recording rules are there for the dashboards: each one is used.
	for _, r := range records(t) {
		if !used[r.Record] {
			t.Errorf("recording rule %s is not used by any dashboard or rule", r.Record)
		}
	}
}

func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// In dashboards, counters (and histogram buckets) are read only through
// rate/increase/irate, and those use $__rate_interval so that the window
// always spans enough scrapes.
func TestDashboardCountersAndRateIntervals(t *testing.T) {
	for _, q := range queries(t) {
		if !q.dashboard {
			continue
		}
		expr, err := promqlParser.ParseExpr(substituteGrafanaVariables(q.expr))
		if err != nil {
			continue // reported by TestQueriesParseAndUseKnownMetrics
		}
		parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
			switch n := n.(type) {
			case *parser.Call:
				if isRateFunc(n.Func.Name) {
					ms, ok := n.Args[0].(*parser.MatrixSelector)
					if !ok || ms.Range != rateIntervalStandIn {
						t.Errorf("%s: %s() without [$__rate_interval]\n%s", q.where, n.Func.Name, q.expr)
					}
				}
			case *parser.VectorSelector:
				name := metricName(n)
				if !strings.HasSuffix(name, "_total") && !strings.HasSuffix(name, "_bucket") {
					return nil
				}
				for _, anc := range path {
					if c, ok := anc.(*parser.Call); ok && isRateFunc(c.Func.Name) {
						return nil
					}
				}
				t.Errorf("%s: counter %s outside rate/increase/irate\n%s", q.where, name, q.expr)
			}
			return nil
		})
	}
}

func isRateFunc(name string) bool {
	return name == "rate" || name == "increase" || name == "irate"
}
