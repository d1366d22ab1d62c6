package stack

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/events"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// secretDir is where alertmanager/alertmanager.yml reads every URL and key.
const secretDir = "/etc/alertmanager/secrets/flagger/"

// amRewrites lists every difference between alertmanager/alertmanager.yml
// and the copy the stack runs; each must match exactly once, so a change to
// the example that would silently disable a rewrite fails instead.
func amRewrites(secrets, templates, pagerURL string) [][2]string {
	return [][2]string{
		// The *_file secrets: a temp dir whose files hold the loopback
		// sinks' URLs (and a dummy PagerDuty key).
		{secretDir, secrets + "/"},
		// Alertmanager resolves templates relative to the config file,
		// and the copy lives in a temp dir: point at the repository's.
		{"- templates/*.tmpl", "- " + templates},
		// PagerDuty's API would otherwise be called; send it to a sink.
		{"- routing_key_file:", "- url: " + pagerURL + "\n        routing_key_file:"},
		// Chat: group_wait 10s -> 1s so a step reaches the sinks at once,
		// group_interval 1m -> 2s so each rollout step (seconds apart
		// here, minutes apart in real life) is its own update instead of
		// being folded into one message a minute. 2s, not 1s: Prometheus
		// re-sends resolved alerts (every 1s here, see prometheus.go), and
		// a flush must always see each of them, or the next flush that
		// does counts it as news and repeats the message.
		{"group_wait: 10s", "group_wait: 1s"},
		{"group_interval: 1m", "group_interval: 2s"},
		// Event adapter: group_interval 30s -> 1s, so a step's resolved
		// notification follows within a second, as it does relative to
		// minutes-long real steps. Its group_wait is 0s already.
		{"group_interval: 30s", "group_interval: 1s"},
		// Pager: group_wait 30s -> 1s (only critical alerts go there).
		{"group_wait: 30s", "group_wait: 1s"},
	}
}

// startAlertmanagers writes the rewritten example config and runs
// bin/alertmanager on it at each address: one instance without gossip, or
// (Options.HA) peers of one cluster.
func (s *Stack) startAlertmanagers(t testing.TB, addrs []string) {
	t.Helper()
	root := testutil.RepoRoot(t)
	dir := filepath.Join(s.dir, "alertmanager")
	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string]string{
		"slack-url":             s.Slack.URL,
		"msteams-workflow-url":  s.Teams.URL,
		"msteams-legacy-url":    s.TeamsLegacy.URL,
		"event-adapter-url":     s.AdapterURL + "/webhook",
		"pagerduty-routing-key": "e2e-routing-key",
	} {
		if err := os.WriteFile(filepath.Join(secrets, key), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "alertmanager", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for _, r := range amRewrites(secrets, filepath.Join(root, "alertmanager", "templates", "*.tmpl"), s.Pager.URL) {
		// The secret dir appears once per receiver; the others once.
		if n := strings.Count(cfg, r[0]); n == 0 || (r[0] != secretDir && n != 1) {
			t.Fatalf("stack: alertmanager/alertmanager.yml has %q %d times; update amRewrites", r[0], n)
		}
		cfg = strings.ReplaceAll(cfg, r[0], r[1])
	}
	if s.opts.KubePrometheusStack {
		cfg = kpsAlertmanagerConfig(t, cfg)
	}
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	clusters := s.clusterArgs(t, len(addrs))
	for i, addr := range addrs {
		url := "http://" + addr
		s.AlertmanagerURLs = append(s.AlertmanagerURLs, url)
		args := append([]string{
			"--config.file=" + file,
			"--storage.path=" + filepath.Join(dir, fmt.Sprintf("data-%d", i)),
			"--web.listen-address=" + addr,
			"--web.external-url=" + url,
			"--log.level=" + s.opts.LogLevel,
		}, clusters[i]...)
		s.procs = append(s.procs, harness.StartProcess(t, testutil.Tool(t, "alertmanager"), args...))
	}
	s.AlertmanagerURL = s.AlertmanagerURLs[0]
	for _, url := range s.AlertmanagerURLs {
		s.waitHTTP(t, "alertmanager", url+"/-/ready")
	}
	if s.opts.HA && !s.opts.Partitioned {
		s.waitPeers(t)
	}
}

// waitHTTP waits for url to answer 200 while every child process lives.
func (s *Stack) waitHTTP(t testing.TB, what, url string) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, func() string {
		if r := s.Exited(); r != "" {
			t.Fatal(r)
		}
		if code, body := harness.Get(url); code != http.StatusOK {
			return what + " not ready: " + string(body)
		}
		return ""
	})
}

// kpsAlertmanager is kube-prometheus-stack's default Alertmanager config
// (its values.yaml alertmanager.config), kept verbatim in testdata.
//
//go:embed testdata/kube-prometheus-stack/alertmanager.yaml
var kpsAlertmanager []byte

// kpsAlertmanagerConfig adds ours (the rewritten alertmanager.yml) to
// kube-prometheus-stack's default config as a user of that chart would:
// kps's root route stays the root, its Watchdog route first, then our root's
// child routes (the Flagger tree); receivers, inhibit rules and templates
// are kps's followed by ours. Our root route's own receiver and grouping (a
// placeholder for "your existing root route") give way to kps's.
func kpsAlertmanagerConfig(t testing.TB, ours string) string {
	t.Helper()
	var kps, cfg map[string]any
	if err := yaml.Unmarshal(kpsAlertmanager, &kps); err != nil {
		t.Fatalf("stack: kube-prometheus-stack alertmanager config: %v", err)
	}
	if err := yaml.Unmarshal([]byte(ours), &cfg); err != nil {
		t.Fatalf("stack: alertmanager/alertmanager.yml: %v", err)
	}
	list := func(m map[string]any, key string) []any {
		l, ok := m[key].([]any)
		if !ok {
			t.Fatalf("stack: %s is not a list in an Alertmanager config: %v", key, m[key])
		}
		return l
	}
	out := map[string]any{}
	for k, v := range cfg {
		out[k] = v
	}
	for k, v := range kps {
		if _, ok := cfg[k]; !ok {
			out[k] = v // global
		}
	}
	for _, k := range []string{"receivers", "inhibit_rules", "templates"} {
		out[k] = slices.Concat(list(kps, k), list(cfg, k))
	}
	kpsRoute, _ := kps["route"].(map[string]any)
	ourRoute, _ := cfg["route"].(map[string]any)
	if kpsRoute == nil || ourRoute == nil {
		t.Fatal("stack: an Alertmanager config without a route")
	}
	route := map[string]any{}
	for k, v := range kpsRoute {
		route[k] = v
	}
	route["routes"] = slices.Concat(list(kpsRoute, "routes"), list(ourRoute, "routes"))
	out["route"] = route
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// AMAlert is one alert as Alertmanager's API v2 reports it: the alert as
// posted (events.Alert, what flagger-exporter sends) and what Alertmanager
// adds.
type AMAlert struct {
	events.Alert
	Fingerprint string `json:"fingerprint"`
	Status      struct {
		State       string   `json:"state"` // active, suppressed, unprocessed
		InhibitedBy []string `json:"inhibitedBy"`
		SilencedBy  []string `json:"silencedBy"`
	} `json:"status"`
}

// AlertmanagerAlerts lists the alerts Alertmanager holds that match every
// matcher (Alertmanager's filter syntax, e.g. `namespace="team-a"`),
// inhibited and silenced ones included, with the status it computes now.
func (s *Stack) AlertmanagerAlerts(matchers ...string) ([]AMAlert, error) {
	q := url.Values{"filter": matchers}
	resp, err := http.Get(s.AlertmanagerURL + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v2/alerts: %s", resp.Status)
	}
	var out []AMAlert
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// PostAlerts sends alerts to every Alertmanager peer as Prometheus and
// flagger-exporter do (POST /api/v2/alerts).
func (s *Stack) PostAlerts(alerts ...events.Alert) error {
	b, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	for _, url := range s.AlertmanagerURLs {
		resp, err := http.Post(url+"/api/v2/alerts", "application/json", bytes.NewReader(b))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s/api/v2/alerts: %s", url, resp.Status)
		}
	}
	return nil
}
