package amconfig

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// The example must load with Alertmanager's own loader. *_file paths need
// not exist for that (Alertmanager reads them when it notifies), so the
// example keeps real-looking absolute paths and the notifier tests point
// them at temporary files.
func TestConfigLoads(t *testing.T) {
	cfg := loadConfig(t)
	if cfg.Route == nil || len(cfg.Route.Routes) == 0 {
		t.Fatal("no route subtree")
	}
	want := []string{"default", "flagger-chat", "flagger-chat-notices", "flagger-none", "flagger-teams-legacy", "flagger-event-adapter", "flagger-pager"}
	var got []string
	for _, r := range cfg.Receivers {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("receivers = %v, want %v", got, want)
	}
}

// amtool is the Alertmanager release the project runs (tools/alertmanager
// pins it), so this also proves the example does not use a field newer than
// that server.
func TestAmtoolCheckConfig(t *testing.T) {
	out, err := exec.Command(testutil.Tool(t, "amtool"), "check-config", configFile(t)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
}

// Every secret comes from a file under one mounted directory; none is inline.
func TestSecretsAreFiles(t *testing.T) {
	cfg := loadConfig(t)
	var files []string
	for _, r := range cfg.Receivers {
		for _, c := range r.SlackConfigs {
			if c.APIURL != nil {
				t.Errorf("%s: inline slack api_url", r.Name)
			}
			files = append(files, c.APIURLFile)
		}
		for _, c := range r.MSTeamsV2Configs {
			if c.WebhookURL != nil {
				t.Errorf("%s: inline msteamsv2 webhook_url", r.Name)
			}
			files = append(files, c.WebhookURLFile)
		}
		for _, c := range r.MSTeamsConfigs {
			if c.WebhookURL != nil {
				t.Errorf("%s: inline msteams webhook_url", r.Name)
			}
			files = append(files, c.WebhookURLFile)
		}
		for _, c := range r.WebhookConfigs {
			if c.URL != "" {
				t.Errorf("%s: inline webhook url", r.Name)
			}
			files = append(files, c.URLFile)
		}
		for _, c := range r.PagerdutyConfigs {
			if c.RoutingKey != "" || c.ServiceKey != "" || c.ServiceKeyFile != "" {
				t.Errorf("%s: pagerduty key not from routing_key_file", r.Name)
			}
			files = append(files, c.RoutingKeyFile)
		}
	}
	// Seven integrations (the notices' receiver reuses chat's Slack and
	// Teams) over five secret files, one per destination.
	seen := map[string]bool{}
	for _, f := range files {
		// Alertmanager reads *_file relative to its working directory, not
		// to the config file, so only absolute paths are meaningful.
		if !strings.HasPrefix(f, "/etc/alertmanager/secrets/flagger/") {
			t.Errorf("secret file %q: want a file under /etc/alertmanager/secrets/flagger/", f)
		}
		seen[f] = true
	}
	if len(files) != 7 || len(seen) != 5 {
		t.Errorf("want 7 integrations over 5 distinct secret files, got %v", files)
	}
	raw, _ := os.ReadFile(configFile(t))
	if m := regexp.MustCompile(`(?m)^\s*-?\s*(api_url|webhook_url|url|routing_key|service_key):`).Find(raw); m != nil {
		t.Errorf("inline secret key in config: %q", m)
	}
}

// Templates load from a path relative to the config file.
func TestTemplatesRelative(t *testing.T) {
	cfg := loadConfig(t)
	dir := filepath.Join(testutil.RepoRoot(t), "alertmanager", "templates")
	if len(cfg.Templates) != 1 || cfg.Templates[0] != filepath.Join(dir, "*.tmpl") {
		t.Fatalf("templates = %v, want [templates/*.tmpl] next to the config", cfg.Templates)
	}
	files, _ := filepath.Glob(cfg.Templates[0])
	if len(files) < 2 {
		t.Fatalf("templates glob matches %v", files)
	}
}

// referencedTemplates lists the template names alertmanager.yml uses.
// amtool check-config parses templates but never executes them, so a typo in
// a name would only show when the first alert is sent.
func referencedTemplates(t *testing.T) []string {
	raw, err := os.ReadFile(configFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{\{\s*template\s+"([^"]+)"`).FindAllSubmatch(raw, -1) {
		if n := string(m[1]); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d template references found: %v", len(names), names)
	}
	return names
}
