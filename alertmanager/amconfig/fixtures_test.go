package amconfig

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// Alertmanager decides firing or resolved against the wall clock, so the
// times are relative to it; the templates print no times, so the renderings
// stay reproducible.
var (
	now = time.Now().Truncate(time.Second)
	t0  = now.Add(-10 * time.Minute)
)

const externalURL = "http://alertmanager:9093"

func configFile(t testing.TB) string {
	return filepath.Join(testutil.RepoRoot(t), "alertmanager", "alertmanager.yml")
}

func loadConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.LoadFile(configFile(t))
	if err != nil {
		t.Fatalf("load %s: %v", configFile(t), err)
	}
	return cfg
}

// loadTemplates loads the templates the way Alertmanager does: its defaults
// first, then the config's `templates` globs.
func loadTemplates(t testing.TB, cfg *config.Config) *template.Template {
	t.Helper()
	tmpl, err := template.FromGlobs(cfg.Templates)
	if err != nil {
		t.Fatalf("templates %v: %v", cfg.Templates, err)
	}
	tmpl.ExternalURL, _ = url.Parse(externalURL)
	return tmpl
}

// alert builds a firing alert (resolved when resolved is true) from label and
// annotation pairs.
func newAlert(resolved bool, labels, annotations map[string]string) *alert.Alert {
	a := &alert.Alert{UpdatedAt: now}
	a.Labels = model.LabelSet{}
	for k, v := range labels {
		a.Labels[model.LabelName(k)] = model.LabelValue(v)
	}
	a.Annotations = model.LabelSet{}
	for k, v := range annotations {
		a.Annotations[model.LabelName(k)] = model.LabelValue(v)
	}
	a.StartsAt = t0
	a.EndsAt = now.Add(time.Hour)
	if resolved {
		a.EndsAt = now.Add(-time.Minute)
	}
	a.GeneratorURL = "http://prometheus:9090/graph?g0.expr=flagger_canary_status+%3E+1&g0.tab=1"
	return a
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// canaryLabels are the labels every per-canary alert of the mixin carries.
func canaryLabels(canary, ns string) map[string]string {
	return map[string]string{
		"canary": canary, "namespace": ns, "target_name": canary,
		"job": "flagger-exporter", "instance": "10.0.0.7:9101", "cluster": "prod-eu",
	}
}

func runbook(name string) map[string]string {
	return map[string]string{"runbook_url": "https://github.com/flagger-monitoring/flagger-monitoring/blob/main/docs/runbooks.md#" + name}
}

// lifecycle is one of the mixin's notices standing in for a Flagger
// notification: its event text in message, its chat text in notification.
func lifecycle(name, phase, message, notification, canary, ns string) *alert.Alert {
	return newAlert(false,
		merge(canaryLabels(canary, ns), map[string]string{"alertname": name, "severity": "notice", "phase": phase, "lifecycle": "true"}),
		merge(runbook(name), map[string]string{"summary": "Flagger " + phase, "description": "Canary " + ns + "/" + canary, "message": message, "notification": notification}))
}

// withFlaggerFields adds the chat fields the mixin's initialisation and
// new-revision notices carry, as Flagger's messages do.
func withFlaggerFields(a *alert.Alert, target, ns string) *alert.Alert {
	for k, v := range map[string]string{
		"target": "Deployment/" + target + "." + ns, "failed_checks_threshold": "5",
		"progress_deadline": "600s", "traffic_routing": "Weight step: 10 max: 50",
	} {
		a.Annotations[model.LabelName(k)] = model.LabelValue(v)
	}
	return a
}

func lifecycleAlerts(canary, ns string) map[string]*alert.Alert {
	return map[string]*alert.Alert{
		"FlaggerCanaryInitialized":      withFlaggerFields(lifecycle("FlaggerCanaryInitialized", "Initialized", "Initialization done! "+canary+"."+ns, "New Deployment detected, initialization completed.", canary, ns), canary, ns),
		"FlaggerCanaryNewRevision":      withFlaggerFields(lifecycle("FlaggerCanaryNewRevision", "Progressing", "New revision detected! Scaling up "+canary+"."+ns, "New revision detected, progressing canary analysis.", canary, ns), canary, ns),
		"FlaggerCanaryWaiting":          lifecycle("FlaggerCanaryWaiting", "Waiting", "Halt "+canary+"."+ns+" advancement waiting for approval", "Canary is waiting for approval.", canary, ns),
		"FlaggerCanaryWaitingPromotion": lifecycle("FlaggerCanaryWaitingPromotion", "WaitingPromotion", "Halt "+canary+"."+ns+" advancement waiting for promotion approval", "Canary promotion is waiting for approval.", canary, ns),
		"FlaggerCanaryPromoted":         lifecycle("FlaggerCanaryPromoted", "Succeeded", "Promotion completed! Scaling down "+canary+"."+ns, "Canary analysis completed successfully, promotion finished.", canary, ns),
		"FlaggerCanaryFailed":           lifecycle("FlaggerCanaryFailed", "Failed", "Canary failed! Scaling down "+canary+"."+ns, "Failed checks threshold reached 5", canary, ns),
	}
}

// step is an alert flagger-exporter relays from one of Flagger's Kubernetes
// Events (exporter/events.alertFor).
func step(canary, ns string) *alert.Alert {
	return newAlert(false,
		map[string]string{"alertname": "FlaggerCanaryStep", "namespace": ns, "canary": canary, "phase": "Progressing", "severity": "notice", "event": "0b5e/1"},
		map[string]string{"message": "Advance " + canary + "." + ns + " canary weight 20", "event_type": "Normal", "checksum": "758df7c9fc"})
}

// problem is one of the mixin's conventional alerts.
func problem(name, severity, canary, ns string, extra map[string]string) *alert.Alert {
	return newAlert(false,
		merge(canaryLabels(canary, ns), map[string]string{"alertname": name, "severity": severity}, extra),
		merge(runbook(name), map[string]string{"summary": name + " summary", "description": "Canary " + ns + "/" + canary + " is in trouble."}))
}

func rolledBack(canary, ns string) *alert.Alert {
	return problem("FlaggerCanaryRolledBack", "warning", canary, ns, map[string]string{"phase": "Failed", "name": canary})
}

// flaggerRollback is Flagger's documented canary_rollback as Flagger's own
// series produce it (see the webhook bodies a real Alertmanager sent): the
// target workload in `name`, no `canary`.
func flaggerRollback(name, ns string) *alert.Alert {
	return newAlert(false,
		map[string]string{"alertname": "canary_rollback", "severity": "warning", "name": name, "namespace": ns, "job": "flagger", "instance": "10.0.0.5:8080", "cluster": "prod-eu"},
		map[string]string{"summary": "Canary failed", "description": "Workload " + name + " namespace " + ns})
}

func exporterAlert(name, severity string) *alert.Alert {
	return newAlert(false,
		map[string]string{"alertname": name, "severity": severity, "job": "flagger-exporter", "instance": "10.0.0.7:9101", "namespace": "monitoring", "cluster": "prod-eu"},
		merge(runbook(name), map[string]string{"summary": name, "description": "Exporter 10.0.0.7:9101 is down."}))
}

func resolvedCopy(a *alert.Alert) *alert.Alert {
	c := *a
	c.EndsAt = now.Add(-time.Minute)
	return &c
}

// data is what Alertmanager hands a template for one notification.
func data(tmpl *template.Template, receiver string, groupBy []model.LabelName, alerts ...*alert.Alert) *template.Data {
	group := model.LabelSet{}
	for _, ln := range groupBy {
		if v, ok := alerts[0].Labels[ln]; ok {
			group[ln] = v
		}
	}
	return tmpl.Data(receiver, group, nil, "first notification", alerts...)
}

var chatGroupBy = []model.LabelName{"cluster", "namespace", "canary"}
