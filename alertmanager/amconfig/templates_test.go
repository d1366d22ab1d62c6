package amconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// scenarios are the notifications every template must handle: one firing
// alert, a whole canary's group (lifecycle steps, problems, resolved ones),
// everything resolved, and Flagger's own canary_rollback.
func scenarios(tmpl *template.Template) map[string]*template.Data {
	lc := lifecycleAlerts("podinfo", "test")
	long := rolledBack("podinfo", "test")
	long.Annotations["description"] = model.LabelValue(strings.Repeat("A long\ndescription & <more>. ", 40))
	group := []*alert.Alert{
		lc["FlaggerCanaryFailed"], long,
		problem("FlaggerCanaryProgressDeadlineExceeded", "critical", "podinfo", "test", map[string]string{"phase": "Progressing"}),
		resolvedCopy(lc["FlaggerCanaryNewRevision"]),
		resolvedCopy(problem("FlaggerCanaryFailedChecksRising", "info", "podinfo", "test", map[string]string{"phase": "Progressing"})),
	}
	var resolved []*alert.Alert
	for _, a := range group {
		resolved = append(resolved, resolvedCopy(a))
	}
	return map[string]*template.Data{
		"one firing":   data(tmpl, "flagger-chat", chatGroupBy, lc["FlaggerCanaryNewRevision"]),
		"group":        data(tmpl, "flagger-chat", chatGroupBy, group...),
		"all resolved": data(tmpl, "flagger-chat", chatGroupBy, resolved...),
		"flagger rollback": data(tmpl, "flagger-chat", chatGroupBy,
			flaggerRollback("frontend", "prod")),
		"exporter down": data(tmpl, "flagger-chat", chatGroupBy, exporterAlert("FlaggerExporterDown", "critical")),
	}
}

func render(t *testing.T, tmpl *template.Template, name string, d *template.Data) string {
	t.Helper()
	out, err := tmpl.ExecuteTextString(`{{ template "`+name+`" . }}`, d)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// Every template alertmanager.yml names exists and renders something for
// every kind of notification.
func TestReferencedTemplatesRender(t *testing.T) {
	cfg := loadConfig(t)
	tmpl := loadTemplates(t, cfg)
	for scenario, d := range scenarios(tmpl) {
		for _, name := range referencedTemplates(t) {
			if out := render(t, tmpl, name, d); strings.TrimSpace(out) == "" {
				t.Errorf("%s: %s renders empty", scenario, name)
			}
		}
	}
}

// The server the project runs is Alertmanager 0.31 (bin/amtool is built from
// the same release); the tests link 0.34. Both engines must produce the same
// text, so the templates use nothing newer than 0.31.
func TestTemplatesSameOnServerRelease(t *testing.T) {
	cfg := loadConfig(t)
	tmpl := loadTemplates(t, cfg)
	var text strings.Builder
	for _, name := range referencedTemplates(t) {
		text.WriteString("\n==== " + name + " ====\n{{ template \"" + name + "\" . }}")
	}
	dir := t.TempDir()
	for scenario, d := range scenarios(tmpl) {
		want, err := tmpl.ExecuteTextString(text.String(), d)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(d)
		file := filepath.Join(dir, strings.ReplaceAll(scenario, " ", "-")+".json")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(testutil.Tool(t, "amtool"), "template", "render",
			"--template.glob="+cfg.Templates[0], "--template.text="+text.String(), "--template.data="+file).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: amtool template render: %v\n%s", scenario, err, out)
		}
		if string(out) != want {
			t.Errorf("%s: amtool (server release) renders differently:\n%s\n---- linked release:\n%s", scenario, out, want)
		}
	}
}

// Each lifecycle step has its own short rendering, like Flagger's messages.
func TestLifecycleRenderings(t *testing.T) {
	tmpl := loadTemplates(t, loadConfig(t))
	want := map[string]struct{ title, color string }{
		"FlaggerCanaryInitialized":      {"🆕 Initialization done · podinfo.test (prod-eu)", "good"},
		"FlaggerCanaryNewRevision":      {"🚀 New revision detected · podinfo.test (prod-eu)", "#439FE0"},
		"FlaggerCanaryWaiting":          {"⏸️ Waiting for approval · podinfo.test (prod-eu)", "#439FE0"},
		"FlaggerCanaryWaitingPromotion": {"⏸️ Waiting for promotion · podinfo.test (prod-eu)", "#439FE0"},
		"FlaggerCanaryPromoted":         {"🎉 Promotion completed · podinfo.test (prod-eu)", "good"},
		"FlaggerCanaryFailed":           {"❌ Canary failed · podinfo.test (prod-eu)", "danger"},
	}
	for name, a := range lifecycleAlerts("podinfo", "test") {
		d := data(tmpl, "flagger-chat", chatGroupBy, a)
		for _, tn := range []string{"slack.flagger.title", "msteamsv2.flagger.title"} {
			if got := render(t, tmpl, tn, d); got != want[name].title {
				t.Errorf("%s %s = %q, want %q", name, tn, got, want[name].title)
			}
		}
		if got := render(t, tmpl, "slack.flagger.color", d); got != want[name].color {
			t.Errorf("%s colour = %q, want %q", name, got, want[name].color)
		}
		text := render(t, tmpl, "slack.flagger.text", d)
		// Flagger's chat wording, not its event wording.
		chat := string(a.Annotations["notification"])
		if !strings.Contains(text, "> "+chat) || strings.Contains(text, string(a.Annotations["message"])) || !strings.Contains(text, "Target: ") {
			t.Errorf("%s: text lacks Flagger's chat message %q or the target, or has its event text:\n%s", name, chat, text)
		}
		// Flagger's fields, on the messages it sends them with.
		fields := "Target: Deployment/podinfo.test · Phase: " + string(a.Labels["phase"])
		tail := "Failed checks threshold: 5 · Progress deadline: 600s · Traffic routing: Weight step: 10 max: 50"
		if _, ok := a.Annotations["traffic_routing"]; ok && (!strings.Contains(text, fields) || !strings.Contains(text, tail)) {
			t.Errorf("%s: text lacks Flagger's fields %q … %q:\n%s", name, fields, tail, text)
		}
		if teams := render(t, tmpl, "msteamsv2.flagger.text", d); !strings.Contains(teams, chat) {
			t.Errorf("%s: Teams text lacks Flagger's chat message %q:\n%s", name, chat, teams)
		}
		// The notices' severity (notice) is no news either, in both chats.
		if teams := render(t, tmpl, "msteamsv2.flagger.text", d); strings.Contains(text, "Severity:") || strings.Contains(teams, "Severity:") {
			t.Errorf("%s: a notice shows its severity:\n%s\n%s", name, text, teams)
		}
		// Lifecycle steps are news: no Prometheus Source link.
		if strings.Contains(text, "|Source>") {
			t.Errorf("%s: lifecycle step links its PromQL source:\n%s", name, text)
		}
	}
}

// Weight and failed checks appear where they matter when the alert carries
// them, and the weight is hidden outside a rollout (Flagger resets it to 0).
func TestWeightAndFailedChecks(t *testing.T) {
	tmpl := loadTemplates(t, loadConfig(t))
	lc := lifecycleAlerts("podinfo", "test")
	progressing := lc["FlaggerCanaryNewRevision"]
	progressing.Annotations["canary_weight"] = "20"
	progressing.Annotations["failed_checks"] = "1"
	progressing.Annotations["threshold"] = "5"
	failed := lc["FlaggerCanaryFailed"]
	failed.Annotations["canary_weight"] = "0"
	failed.Annotations["failed_checks"] = "5"
	failed.Annotations["threshold"] = "5"
	for _, tn := range []string{"slack.flagger.text", "msteamsv2.flagger.text"} {
		p := render(t, tmpl, tn, data(tmpl, "flagger-chat", chatGroupBy, progressing))
		if !strings.Contains(p, "Weight: 20%") || !strings.Contains(p, "Failed checks: 1/5") {
			t.Errorf("%s progressing:\n%s", tn, p)
		}
		f := render(t, tmpl, tn, data(tmpl, "flagger-chat", chatGroupBy, failed))
		if strings.Contains(f, "Weight") || !strings.Contains(f, "Failed checks: 5/5") {
			t.Errorf("%s failed:\n%s", tn, f)
		}
	}
}

// A group's headline is its most severe firing alert, and the colour follows.
func TestGroupHeadlineAndColour(t *testing.T) {
	tmpl := loadTemplates(t, loadConfig(t))
	s := scenarios(tmpl)
	for _, c := range []struct{ scenario, title, color string }{
		{"group", "⏱️ Rollout stuck [3 firing] · podinfo.test (prod-eu)", "danger"},
		{"all resolved", "✅ Resolved: Rollout stuck [5 resolved] · podinfo.test (prod-eu)", "good"},
		{"flagger rollback", "⏪ Canary failed · frontend.prod (prod-eu)", "danger"},
		{"exporter down", "🔌 flagger-exporter is down · namespace monitoring (prod-eu)", "danger"},
	} {
		if got := render(t, tmpl, "slack.flagger.title", s[c.scenario]); got != c.title {
			t.Errorf("%s: title %q, want %q", c.scenario, got, c.title)
		}
		if got := render(t, tmpl, "slack.flagger.color", s[c.scenario]); got != c.color {
			t.Errorf("%s: colour %q, want %q", c.scenario, got, c.color)
		}
	}
	// Resolved lifecycle steps are "ended", resolved problems "resolved".
	text := render(t, tmpl, "slack.flagger.text", s["group"])
	for _, want := range []string{"⚪ Ended: New revision detected", "✅ Resolved: Failed checks rising", "Severity: critical", "|Runbook>", "|Source>"} {
		if !strings.Contains(text, want) {
			t.Errorf("group text lacks %q:\n%s", want, text)
		}
	}
}

// A big group lists ten alerts and says how many there are.
func TestLargeGroupIsCapped(t *testing.T) {
	tmpl := loadTemplates(t, loadConfig(t))
	d := data(tmpl, "flagger-chat", chatGroupBy, manyAlerts(100)...)
	for _, tn := range []string{"slack.flagger.text", "msteamsv2.flagger.text", "msteams.flagger.text"} {
		out := render(t, tmpl, tn, d)
		if !strings.Contains(out, "Showing 10 of 100 firing alerts") || strings.Count(out, "Canary failed") != 10 {
			t.Errorf("%s: not capped at 10 of 100", tn)
		}
	}
}

func manyAlerts(n int) []*alert.Alert {
	var as []*alert.Alert
	for i := range n {
		a := rolledBack("podinfo", "test")
		a.Labels["alertname"] = "FlaggerCanaryFailed"
		a.Labels["instance"] = model.LabelValue(fmt.Sprintf("10.0.%d.%d:9101", i/250, i%250))
		as = append(as, a)
	}
	return as
}

// A problem quotes Flagger's latest step (the last_step annotation), with
// markup escaped; a notice, which is Flagger's word already, does not.
func TestLatestStep(t *testing.T) {
	tmpl := loadTemplates(t, loadConfig(t))
	stuck := problem("FlaggerCanaryProgressDeadlineExceeded", "critical", "podinfo", "test", map[string]string{"phase": "Progressing"})
	stuck.Annotations["last_step"] = "Halt podinfo.test advancement success rate 82.00% < 99% <!channel> *x*"
	notice := lifecycleAlerts("podinfo", "test")["FlaggerCanaryNewRevision"]
	notice.Annotations["last_step"] = "New revision detected! Scaling up podinfo.test"
	for tn, want := range map[string]string{
		"slack.flagger.text":     "Latest step: Halt podinfo.test advancement success rate 82.00% &lt; 99% &lt;!channel&gt; *x*\n",
		"msteamsv2.flagger.text": "Latest step: Halt podinfo.test advancement success rate 82.00% \\< 99% \\<!channel\\> \\*x\\*\n\n",
	} {
		if got := render(t, tmpl, tn, data(tmpl, "flagger-chat", chatGroupBy, stuck)); !strings.Contains(got, want) {
			t.Errorf("%s problem lacks %q:\n%s", tn, want, got)
		}
		if got := render(t, tmpl, tn, data(tmpl, "flagger-chat-notices", chatGroupBy, notice)); strings.Contains(got, "Latest step") {
			t.Errorf("%s notice quotes the latest step:\n%s", tn, got)
		}
	}
}

// Red only for Flagger's errors: a rollback by the rollback webhook is a
// warning in Flagger (flagger_severity warn), so its notice is not danger;
// one at the threshold is.
func TestFailedColourFollowsFlaggerSeverity(t *testing.T) {
	tmpl := loadTemplates(t, loadConfig(t))
	manual := lifecycleAlerts("podinfo", "test")["FlaggerCanaryFailed"]
	manual.Annotations["notification"] = "Rolling back manual webhook invoked"
	manual.Annotations["flagger_severity"] = "warn"
	threshold := lifecycleAlerts("podinfo", "test")["FlaggerCanaryFailed"]
	threshold.Annotations["flagger_severity"] = "error"
	for a, want := range map[*alert.Alert]string{manual: "good", threshold: "danger", lifecycleAlerts("podinfo", "test")["FlaggerCanaryFailed"]: "danger"} {
		if got := render(t, tmpl, "slack.flagger.color", data(tmpl, "flagger-chat-notices", chatGroupBy, a)); got != want {
			t.Errorf("%s (flagger_severity %q): colour %q, want %q", a.Annotations["notification"], a.Annotations["flagger_severity"], got, want)
		}
	}
}
