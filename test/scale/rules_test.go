package scale

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// measureRules runs the real Prometheus (bin/prometheus) scraping the
// exporter every 5 s with the shipped rules/, and reports the rule groups'
// evaluation time and the cost of every dashboard query at this fleet size.
func measureRules(b *testing.B, exporterAddr string) {
	root := testutil.RepoRoot(b)
	dir := b.TempDir()
	rules, _ := filepath.Glob(filepath.Join(root, "rules", "*.yaml"))
	config := testutil.PrometheusRulesConfig(b, dir, rules, exporterAddr)
	addr := harness.FreeAddr(b)
	p := harness.StartProcess(b, testutil.Tool(b, "prometheus"),
		"--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	defer p.Stop()
	api := "http://" + addr
	harness.Eventually(b, time.Minute, func() string {
		if s, _ := harness.Get(api + "/-/ready"); s != http.StatusOK {
			return "Prometheus not ready"
		}
		return ""
	})

	// Wait until the exporter is scraped and every group has been evaluated,
	// then give it three more evaluations with the data in place.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		groups, all := ruleGroupDurations(b, api)
		if len(groups) == all && all > 0 && instantValue(b, api, `count(up{job="flagger-exporter"} == 1)`) == 1 {
			break
		}
		if time.Now().After(deadline) || p.Exited() {
			b.Fatalf("Prometheus did not evaluate the rules in time:\n%s", p.Output())
		}
		time.Sleep(time.Second)
	}
	const window = 15 * time.Second
	self0 := promSelf(b, api)
	cpu0, _ := cpuTime(p.Pid())
	time.Sleep(window)
	cpu1, _ := cpuTime(p.Pid())
	self1 := promSelf(b, api)
	// What the user's Prometheus pays for this fleet: series in its head
	// (scraped and recorded), memory, samples appended per second and CPU,
	// over the window, with the shipped rules evaluated every 5 s.
	rss, _ := rssBytes(p.Pid())
	scraped := instantValue(b, api, `scrape_samples_scraped{job="flagger-exporter"}`)
	head := self1["prometheus_tsdb_head_series"]
	b.ReportMetric(head, "prom_head_series")
	b.ReportMetric(head-scraped, "prom_recorded_series")
	b.ReportMetric(rss/1e6, "prom_rss_MB")
	b.ReportMetric(self1["go_memstats_heap_inuse_bytes"]/1e6, "prom_heap_MB")
	b.ReportMetric(rss/head, "prom_rss_B/series")
	b.ReportMetric((self1["prometheus_tsdb_head_samples_appended_total"]-self0["prometheus_tsdb_head_samples_appended_total"])/window.Seconds(), "prom_samples/s")
	b.ReportMetric(float64(cpu1-cpu0)/float64(window), "prom_cpu_cores")
	groups, _ := ruleGroupDurations(b, api)
	var total float64
	for g, d := range groups {
		total += d
		b.ReportMetric(d*1000, "rules_"+g+"_ms")
	}
	b.ReportMetric(total*1000, "rules_total_ms")
	b.ReportMetric(instantValue(b, api, `scrape_duration_seconds{job="flagger-exporter"}`)*1000, "prom_scrape_ms")

	var slowest time.Duration
	var sum time.Duration
	queries := dashboardQueries(b, root)
	for _, q := range queries {
		t0 := time.Now()
		instantValue(b, api, q)
		d := time.Since(t0)
		sum += d
		slowest = max(slowest, d)
	}
	b.ReportMetric(float64(len(queries)), "dashboard_queries")
	b.ReportMetric(float64(sum)/float64(time.Millisecond), "dashboard_all_queries_ms")
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "dashboard_slowest_query_ms")
}

// promSelf reads Prometheus's own metrics (it does not scrape itself here):
// the sum of every series of each family.
func promSelf(b *testing.B, api string) map[string]float64 {
	fams, err := harness.Scrape(b, api+"/metrics")
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			out[name] += m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return out
}

// ruleGroupDurations returns the last evaluation time of every group that
// has been evaluated, and how many groups there are.
func ruleGroupDurations(b *testing.B, api string) (map[string]float64, int) {
	var resp struct {
		Data struct {
			Groups []struct {
				Name           string  `json:"name"`
				EvaluationTime float64 `json:"evaluationTime"`
			} `json:"groups"`
		} `json:"data"`
	}
	getJSON(b, api+"/api/v1/rules", &resp)
	out := map[string]float64{}
	for _, g := range resp.Data.Groups {
		if g.EvaluationTime > 0 {
			out[g.Name] = g.EvaluationTime
		}
	}
	return out, len(resp.Data.Groups)
}

// instantValue evaluates q and returns the first sample's value (0 if none).
func instantValue(b *testing.B, api, q string) float64 {
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	getJSON(b, api+"/api/v1/query?query="+url.QueryEscape(q), &resp)
	if resp.Status != "success" {
		b.Fatalf("query %s: %s", q, resp.Error)
	}
	if len(resp.Data.Result) == 0 {
		return 0
	}
	var v float64
	fmt.Sscan(resp.Data.Result[0].Value[1].(string), &v)
	return v
}

func getJSON(b *testing.B, u string, into any) {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		b.Fatalf("%s: %v", u, err)
	}
}

// dashboardQueries returns every panel query of the shipped dashboards with
// the template variables set as a user opening them would see: all
// namespaces, one canary, a 1m rate interval.
func dashboardQueries(b *testing.B, root string) []string {
	files, _ := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	repl := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "30s", "$__range_s", "3600", "$__range_ms", "3600000", "$__range", "1h",
		`=~"$namespace"`, `=~".+"`, `=~"$cluster"`, `=~".*"`, `="$namespace"`, `="team-000"`,
		`=~"$canary"`, `=~"service-00000"`, `="$canary"`, `="service-00000"`, "$cluster", "", "$namespace", "team-000", "$canary", "service-00000")
	var out []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			b.Fatal(err)
		}
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				if t.Expr != "" {
					out = append(out, repl.Replace(t.Expr))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
