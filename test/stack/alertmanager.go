package stack

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// startAlertmanager runs bin/alertmanager on the rewritten example config.
func (s *Stack) startAlertmanager(t testing.TB, addr string) {
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
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.AlertmanagerURL = "http://" + addr
	s.procs = append(s.procs, harness.StartProcess(t, testutil.Tool(t, "alertmanager"),
		"--config.file="+file,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.external-url="+s.AlertmanagerURL,
		"--cluster.listen-address=", // no gossip: one instance
		"--log.level="+s.opts.LogLevel,
	))
	s.waitHTTP(t, "alertmanager", s.AlertmanagerURL+"/-/ready")
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
