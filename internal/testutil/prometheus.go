package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// PrometheusRulesConfig writes, in dir, the Prometheus configuration the rule
// benchmarks run: the flagger-exporter job scraping target every 5 s (with
// honor_labels, as the shipped ServiceMonitor) and ruleFiles evaluated every
// 5 s. It returns the file's path.
func PrometheusRulesConfig(t testing.TB, dir string, ruleFiles []string, target string) string {
	t.Helper()
	cfg := fmt.Sprintf(`global: {scrape_interval: 5s, evaluation_interval: 5s}
rule_files: [%s]
scrape_configs:
  - job_name: flagger-exporter
    honor_labels: true
    scrape_timeout: 5s
    static_configs: [{targets: [%q]}]
`, strings.Join(ruleFiles, ", "), target)
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
