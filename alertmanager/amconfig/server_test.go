package amconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// The Alertmanager server the project runs (bin/alertmanager, 0.31), started
// with the example, delivers a rollout's alerts to every receiver. The copy
// it runs differs from the example only in where the secrets are, where the
// templates are, the PagerDuty URL, and shorter group waits.
func TestServerDeliversExample(t *testing.T) {
	dir := t.TempDir()
	svc := map[string]*service{
		"slack-url":            newService(t, http.StatusOK, "text/plain", "ok"),
		"msteams-workflow-url": newService(t, http.StatusAccepted, "", ""),
		"msteams-legacy-url":   newService(t, http.StatusOK, "text/plain", "1"),
		"event-adapter-url":    newService(t, http.StatusOK, "", ""),
	}
	pager := newService(t, http.StatusAccepted, "application/json", `{"status":"success"}`)
	secrets := filepath.Join(dir, "secrets") + "/"
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	for key, s := range svc {
		if err := os.WriteFile(secrets+key, []byte(s.url+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(secrets+"pagerduty-routing-key", []byte("key\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(configFile(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"/etc/alertmanager/secrets/flagger/", secrets,
		"- templates/*.tmpl", "- "+filepath.Join(testutil.RepoRoot(t), "alertmanager", "templates", "*.tmpl"),
		"group_wait: 10s", "group_wait: 1s",
		"group_wait: 30s", "group_wait: 1s",
		"- routing_key_file:", "- url: "+pager.url+"\n        routing_key_file:",
	).Replace(string(raw))
	cfgFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := testutil.FreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, testutil.Tool(t, "alertmanager"),
		"--config.file="+cfgFile, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", logs.String())
		}
	}()
	base := "http://" + addr
	waitFor(t, 15*time.Second, "alertmanager ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	step := lifecycleAlerts("podinfo", "test")["FlaggerCanaryNewRevision"]
	stuck := problem("FlaggerCanaryProgressDeadlineExceeded", "critical", "podinfo", "test", map[string]string{"phase": "Progressing"})
	var body []map[string]any
	for _, a := range []*struct{ l, an map[string]string }{
		{labelMap(step.Labels), labelMap(step.Annotations)},
		{labelMap(stuck.Labels), labelMap(stuck.Annotations)},
	} {
		body = append(body, map[string]any{"labels": a.l, "annotations": a.an, "generatorURL": step.GeneratorURL})
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %v %v", err, resp)
	}
	resp.Body.Close()

	count := func(s *service) int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.bodies) }
	// The notice and the problem are two chat messages: the notice alone, as
	// Flagger posts it, the problem in the canary's problem group.
	waitFor(t, 20*time.Second, "notifications", func() bool {
		return count(svc["slack-url"]) >= 2 && count(svc["msteams-workflow-url"]) >= 2 &&
			count(svc["event-adapter-url"]) >= 2 && count(pager) >= 1
	})
	titles := map[string]string{}
	svc["slack-url"].mu.Lock()
	slackBodies := append([][]byte(nil), svc["slack-url"].bodies...)
	svc["slack-url"].mu.Unlock()
	for _, raw := range slackBodies {
		m := checkSlack(t, raw)
		titles[m.Attachments[0].Title] = m.Attachments[0].Text
	}
	notice, okN := titles["🚀 New revision detected · podinfo.test (prod-eu)"]
	_, okP := titles["⏱️ Rollout stuck · podinfo.test (prod-eu)"]
	if !okN || !okP || len(titles) != 2 {
		t.Errorf("slack titles %v, want the notice and the problem apart", titles)
	}
	if !strings.Contains(notice, "New revision detected, progressing canary analysis.") || !strings.Contains(notice, "Traffic routing: Weight step: 10 max: 50") {
		t.Errorf("notice text:\n%s", notice)
	}
	cards := 0
	svc["msteams-workflow-url"].mu.Lock()
	teamsBodies := append([][]byte(nil), svc["msteams-workflow-url"].bodies...)
	svc["msteams-workflow-url"].mu.Unlock()
	for _, raw := range teamsBodies {
		if title, text := checkAdaptiveCard(t, raw); strings.Contains(title, "New revision detected") && strings.Contains(text, "New revision detected, progressing canary analysis.") {
			cards++
		}
	}
	if cards != 1 {
		t.Errorf("%d Teams cards carry the notice, want 1", cards)
	}
	// One alert per adapter message; the step never pages.
	adapter := svc["event-adapter-url"]
	adapter.mu.Lock()
	defer adapter.mu.Unlock()
	for _, raw := range adapter.bodies {
		var wh struct{ Alerts []any }
		if err := json.Unmarshal(raw, &wh); err != nil || len(wh.Alerts) != 1 {
			t.Errorf("adapter message: %s", raw)
		}
	}
	if p := string(pager.last(t)); strings.Contains(p, "FlaggerCanaryNewRevision") || !strings.Contains(p, "Rollout stuck") {
		t.Errorf("pager message: %s", p)
	}
	if n := count(svc["msteams-legacy-url"]); n != 0 {
		t.Errorf("legacy Teams got %d messages without the opt-in label", n)
	}
}

func labelMap[T ~map[K]V, K, V ~string](m T) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
