package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
)

const minimal = `
targets:
  - name: consumer
    url: http://consumer.example:8080/events
`

func TestParseDefaults(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Global != config.DefaultGlobal {
		t.Errorf("global defaults: %+v", c.Global)
	}
	tg := c.Targets[0]
	if time.Duration(tg.Timeout) != 3*time.Second || *tg.MaxRetries != 5 || tg.Concurrency != 4 ||
		time.Duration(tg.MinBackoff) != 100*time.Millisecond || time.Duration(tg.MaxBackoff) != 2*time.Second ||
		!tg.HTTPConfig.FollowRedirects {
		t.Errorf("target defaults: %+v", tg)
	}
	rt, err := config.Compile(c, config.Identity{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rt.RequestTimeout != 10*time.Second || rt.Window.Duration != time.Hour || rt.Window.MaxEntries != 10000 || rt.MaxBodyBytes != 8<<20 {
		t.Errorf("runtime: %+v", rt)
	}
	if !rt.Targets[0].Selects(map[string]string{"anything": "x"}) {
		t.Error("a target without matchers selects every alert")
	}
}

func TestParseFull(t *testing.T) {
	c, err := config.Parse([]byte(`
global:
  request_timeout: 5s
  idempotency_window: 30m
  idempotency_max_entries: 50
  max_body_bytes: 1024
mapping:
  name_labels: [canary]
  phases: {MyAlert: Waiting}
  lifecycle_alerts: []
  message_template: '{{ .Annotations.summary }}'
  metadata: {labels: [severity], annotations: [runbook_url]}
targets:
  - name: team-a
    url: https://a.example/hook
    matchers: ['namespace=~"team-a.*"', 'severity!="info"']
    max_retries: 0
    timeout: 1s
    http_config:
      bearer_token: tok
  - name: all
    url: http://b.example/
`))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := config.Compile(c, config.Identity{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	a := rt.Targets[0]
	if a.Policy.MaxRetries != 0 || a.Policy.Timeout != time.Second || rt.RequestTimeout != 5*time.Second || rt.MaxBodyBytes != 1024 {
		t.Errorf("policy %+v", a.Policy)
	}
	for l, want := range map[[2]string]bool{
		{"team-a-prod", "warning"}: true,
		{"team-a", ""}:             true,
		{"team-a", "info"}:         false,
		{"team-b", "warning"}:      false,
	} {
		if got := a.Selects(map[string]string{"namespace": l[0], "severity": l[1]}); got != want {
			t.Errorf("matchers on %v: %v", l, got)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"no targets":      {`targets: []`, "at least one target"},
		"unknown key":     {minimal + "\nextra: 1", "extra"},
		"typo in target":  {"targets: [{name: a, url: 'http://x/', timeuot: 1s}]", "timeuot"},
		"url and file":    {"targets: [{name: a, url: 'http://x/', url_file: f}]", "exactly one of url and url_file"},
		"neither":         {"targets: [{name: a}]", "exactly one of url and url_file"},
		"no name":         {"targets: [{url: 'http://x/'}]", "name is required"},
		"dup names":       {"targets: [{name: a, url: 'http://x/'}, {name: a, url: 'http://y/'}]", `duplicate name "a"`},
		"bad matcher":     {"targets: [{name: a, url: 'http://x/', matchers: ['namespace=~(']}]", "matchers[0]"},
		"neg retries":     {"targets: [{name: a, url: 'http://x/', max_retries: -1}]", "max_retries"},
		"backoff order":   {"targets: [{name: a, url: 'http://x/', min_backoff: 2s, max_backoff: 1s}]", "max_backoff"},
		"concurrency":     {"targets: [{name: a, url: 'http://x/', concurrency: 0}]", "concurrency"},
		"zero timeout":    {"global: {request_timeout: 0s}\n" + minimal, "request_timeout"},
		"body limit":      {"global: {max_body_bytes: -1}\n" + minimal, "max_body_bytes"},
		"bad phase":       {"mapping: {phases: {X: Finalizing}}\n" + minimal, "not a Flagger phase"},
		"bad template":    {"mapping: {message_template: '{{ .Nope }}'}\n" + minimal, "message_template"},
		"reserved meta":   {"mapping: {metadata: {labels: [eventMessage]}}\n" + minimal, "overwrite"},
		"bad http_config": {"targets: [{name: a, url: 'http://x/', http_config: {bearer_token: a, bearer_token_file: b}}]", "bearer"},
	} {
		_, err := config.Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error saying %q, got %v", name, tc.want, err)
		}
	}
}

// TestErrorsDoNotLeakURLs: a URL may carry a token; no error quotes it.
func TestErrorsDoNotLeakURLs(t *testing.T) {
	for _, u := range []string{"ftp://user:s3cret@x/p", "http:///s3cret", "http://x/%zz?s3cret", "s3cret"} {
		_, err := config.Parse([]byte("targets: [{name: a, url: '" + u + "'}]"))
		if err == nil {
			t.Errorf("%s accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error leaks the URL: %v", err)
		}
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "url"), "gopher://s3cret\n")
	write(t, filepath.Join(dir, "c.yml"), "targets: [{name: a, url_file: url}]")
	c, err := config.Load(filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = config.Compile(c, config.Identity{UserAgent: "test"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("url_file content must be checked without being quoted: %v", err)
	}
}

func TestURLFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "secret-url"), "  https://hook.example/with/token \n")
	write(t, filepath.Join(dir, "c.yml"), "targets: [{name: a, url_file: secret-url}]")
	c, err := config.Load(filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := config.Compile(c, config.Identity{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if string(rt.Targets[0].URL) != "https://hook.example/with/token" {
		t.Errorf("url from file: %q", rt.Targets[0].URL)
	}
	c.Targets[0].URLFile = filepath.Join(dir, "missing")
	if _, err := config.Compile(c, config.Identity{UserAgent: "test"}); err == nil {
		t.Error("missing url_file accepted")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
