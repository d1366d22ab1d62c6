package stack

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// prometheusConfig scrapes the exporter the way docs/mixin.md says
// (job flagger-exporter, honor_labels: true), every second rather than every
// 30 s so a rollout step shows within a second or two, evaluates the
// repository's rules/*.yaml as shipped (not copied, not rewritten) every
// second, and alerts the stack's Alertmanager.
const prometheusConfig = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
%s
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%s]
scrape_configs:
  - job_name: flagger-exporter
    honor_labels: true
    static_configs:
      - targets: [%q]
`

// kpsGeneralRules are kube-prometheus-stack's Watchdog and InfoInhibitor
// alerts (kubernetes-mixin general.rules as that chart ships them), kept
// verbatim in testdata; loaded with Options.KubePrometheusStack.
//
//go:embed testdata/kube-prometheus-stack/general-rules.yaml
var kpsGeneralRules []byte

// flaggerScrapeConfig scrapes the real Flagger as Flagger's Helm chart's
// ServiceMonitor does: job "flagger", honor_labels false.
const flaggerScrapeConfig = `  - job_name: flagger
    static_configs:
      - targets: [%q]
`

func (s *Stack) startPrometheus(t testing.TB, addr string, amAddrs []string, exporterAddr, flaggerAddr string) {
	t.Helper()
	dir := filepath.Join(s.dir, "prometheus")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ruleFiles := fmt.Sprintf("  - %q", filepath.Join(testutil.RepoRoot(t), "rules", "*.yaml"))
	if s.opts.KubePrometheusStack {
		kps := filepath.Join(dir, "kube-prometheus-stack-general-rules.yaml")
		if err := os.WriteFile(kps, kpsGeneralRules, 0o600); err != nil {
			t.Fatal(err)
		}
		ruleFiles += fmt.Sprintf("\n  - %q", kps)
	}
	quoted := make([]string, len(amAddrs))
	for i, a := range amAddrs {
		quoted[i] = strconv.Quote(a)
	}
	cfg := fmt.Sprintf(prometheusConfig, ruleFiles, strings.Join(quoted, ", "), exporterAddr)
	if flaggerAddr != "" {
		cfg += fmt.Sprintf(flaggerScrapeConfig, flaggerAddr)
	}
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.PrometheusURL = "http://" + addr
	resend := s.opts.ResendDelay
	if resend == 0 {
		// Prometheus re-sends every active and recently resolved alert
		// once the resend delay has passed (default 1m, strictly after,
		// so at every other 1s evaluation for 1s). Below the evaluation
		// interval it re-sends at every evaluation: each resolved alert
		// then sits in Alertmanager's group at every 2s flush, as with
		// production timings resend 1m / group_interval 1m it is not
		// reliably (see the test's report).
		resend = 500 * time.Millisecond
	}
	s.prometheusArgs = []string{
		"--config.file=" + file,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--web.external-url=" + s.PrometheusURL + "/",
		"--rules.alert.resend-delay=" + resend.String(),
		"--log.level=" + s.opts.LogLevel,
	}
	s.runPrometheus(t)
}

func (s *Stack) runPrometheus(t testing.TB) {
	t.Helper()
	s.prometheus = harness.StartProcess(t, testutil.Tool(t, "prometheus"), s.prometheusArgs...)
	s.procs = append(s.procs, s.prometheus)
}

// RestartPrometheus stops Prometheus (SIGTERM, as a pod restart does),
// leaves it down for down, starts it again on the same address and data
// directory, and waits until it is ready as Start does.
func (s *Stack) RestartPrometheus(t testing.TB, down time.Duration) {
	t.Helper()
	s.prometheus.Stop()
	s.procs = slices.DeleteFunc(s.procs, func(p *harness.Process) bool { return p == s.prometheus })
	time.Sleep(down)
	s.runPrometheus(t)
	s.promReady(t)
}

// promReady waits until Prometheus has loaded every rule group, found the
// Alertmanager and scraped the exporter.
func (s *Stack) promReady(t testing.TB) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, func() string {
		if r := s.Exited(); r != "" {
			t.Fatal(r)
		}
		var rules struct {
			Groups []struct{ Name string } `json:"groups"`
		}
		if err := s.promAPI("/api/v1/rules", nil, &rules); err != nil {
			return err.Error()
		}
		want := 4 // rules/*.yaml
		if s.opts.KubePrometheusStack {
			want++ // general.rules
		}
		if len(rules.Groups) < want {
			return fmt.Sprintf("prometheus loaded %d rule groups, want %d", len(rules.Groups), want)
		}
		var ams struct {
			ActiveAlertmanagers []struct{ URL string } `json:"activeAlertmanagers"`
		}
		if err := s.promAPI("/api/v1/alertmanagers", nil, &ams); err != nil || len(ams.ActiveAlertmanagers) != len(s.AlertmanagerURLs) {
			return fmt.Sprintf("prometheus knows %d of %d Alertmanagers: %v", len(ams.ActiveAlertmanagers), len(s.AlertmanagerURLs), err)
		}
		v, err := s.Query(`up{job="flagger-exporter"}`)
		if err != nil || len(v) != 1 || v[0].Value != 1 {
			return fmt.Sprintf("exporter not scraped yet: %v %v", v, err)
		}
		return ""
	})
}

// Sample is one series of an instant query.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL query against the stack's Prometheus.
func (s *Stack) Query(q string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := s.promAPI("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		var v float64
		str, _ := r.Value[1].(string)
		if _, err := fmt.Sscan(str, &v); err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", q, r.Value, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// Alert is one alert as Prometheus's /api/v1/alerts reports it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // pending or firing
	ActiveAt    time.Time         `json:"activeAt"`
}

// Alerts lists Prometheus's pending and firing alerts.
func (s *Stack) Alerts() ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	err := s.promAPI("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

func (s *Stack) promAPI(path string, q url.Values, into any) error {
	u := s.PrometheusURL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("GET %s: %d: %w", path, resp.StatusCode, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, into)
}
