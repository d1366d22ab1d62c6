package event_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

var t0 = time.Date(2026, 11, 24, 6, 54, 24, 0, time.UTC)

func alert(status string, labels ...string) payload.Alert {
	l := map[string]string{"canary": "podinfo", "namespace": "test"}
	for i := 0; i+1 < len(labels); i += 2 {
		if labels[i+1] == "" {
			delete(l, labels[i])
			continue
		}
		l[labels[i]] = labels[i+1]
	}
	a := payload.Alert{Status: status, Labels: l, Annotations: map[string]string{"summary": "s"}, StartsAt: t0, Fingerprint: "00000000000000aa"}
	if status == payload.StatusResolved {
		a.EndsAt = t0.Add(4 * time.Second)
	}
	return a
}

func mapOne(t *testing.T, r event.Rules, a payload.Alert) (event.Event, []event.Rejection) {
	t.Helper()
	res := mustCompile(t, r).Map(&payload.Message{Version: "4", Alerts: []payload.Alert{a}}, now)
	if len(res.Events) == 0 {
		return event.Event{}, res.Rejected
	}
	return res.Events[0], res.Rejected
}

func withAnnotation(a payload.Alert, k, v string) payload.Alert {
	a.Annotations = map[string]string{"summary": "s", k: v}
	return a
}

// forwardAll maps resolved alerts too, for tests of what a resolved alert's
// event holds.
var forwardAll = event.Rules{ForwardResolvedLifecycle: true, ForwardResolvedProblems: true}

func TestPhasePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alert payload.Alert
		want  string
	}{
		{"phase label wins", alert("firing", "alertname", "FlaggerCanaryFailed", "phase", "Promoting"), "Promoting"},
		{"unknown phase label is ignored", alert("firing", "alertname", "FlaggerCanaryPromoted", "phase", "promoting"), "Succeeded"},
		{"default table", alert("firing", "alertname", "FlaggerCanaryNewRevision"), "Progressing"},
		{"canary_rollback", alert("firing", "alertname", "canary_rollback"), "Failed"},
		{"rolled back", alert("resolved", "alertname", "FlaggerCanaryRolledBack"), "Failed"},
		{"unknown alert firing", alert("firing", "alertname", "Other"), "Failed"},
		{"unknown alert resolved", alert("resolved", "alertname", "Other"), "Succeeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := mapOne(t, forwardAll, tc.alert)
			if e.Phase != tc.want {
				t.Errorf("phase %q, want %q", e.Phase, tc.want)
			}
		})
	}
	e, _ := mapOne(t, event.Rules{Phases: map[string]string{"Other": "Waiting", "canary_rollback": ""}}, alert("firing", "alertname", "Other"))
	if e.Phase != "Waiting" {
		t.Errorf("configured phase not used: %q", e.Phase)
	}
}

// A lifecycle alert resolves because the next step began, which has its own
// event; Flagger sends one event per step, so by default none is sent.
func TestResolvedLifecycleAlertsAreSkipped(t *testing.T) {
	m, err := event.Rules{}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	msg := &payload.Message{Alerts: []payload.Alert{
		alert("resolved", "alertname", "FlaggerCanaryNewRevision", "severity", "info", "lifecycle", "true", "canary", "a", "namespace", "n", "phase", "Progressing"),
		alert("resolved", "alertname", "FlaggerCanaryRolledBack", "severity", "warning", "canary", "a", "namespace", "n"),
		alert("firing", "alertname", "FlaggerCanaryPromoted", "severity", "info", "lifecycle", "true", "canary", "a", "namespace", "n", "phase", "Succeeded"),
	}}
	res := m.Map(msg, time.Now())
	// Nor for a problem that cleared: a Normal "Failed" event for a
	// resolved FlaggerCanaryRolledBack would read as a second rollback.
	if res.SkippedResolvedLifecycle != 1 || res.SkippedResolvedProblems != 1 || len(res.Events) != 1 || res.Events[0].Phase != "Succeeded" {
		t.Fatalf("skipped %d lifecycle and %d problems, events %+v", res.SkippedResolvedLifecycle, res.SkippedResolvedProblems, res.Events)
	}
}

func TestEventType(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules event.Rules
		alert payload.Alert
		want  string
	}{
		{"failure firing", event.Rules{}, alert("firing", "alertname", "FlaggerCanaryFailed", "severity", "warning"), event.TypeWarning},
		{"failure resolved, forwarded", forwardAll, alert("resolved", "alertname", "FlaggerCanaryFailed"), event.TypeNormal},
		{"lifecycle label firing", event.Rules{}, alert("firing", "alertname", "FlaggerCanaryPromoted", "severity", "warning", "lifecycle", "true"), event.TypeNormal},
		{"lifecycle label resolved, forwarded", event.Rules{ForwardResolvedLifecycle: true}, alert("resolved", "alertname", "FlaggerCanaryPromoted", "lifecycle", "true"), event.TypeNormal},
		{"lifecycle failure firing", event.Rules{}, alert("firing", "alertname", "FlaggerCanaryFailed", "severity", "info", "lifecycle", "true", "phase", "Failed"), event.TypeWarning},
		{"lifecycle label not true", event.Rules{}, alert("firing", "alertname", "FlaggerCanaryPromoted", "lifecycle", "false"), event.TypeWarning},
		// A severity says how urgent a problem is, not whether it is one:
		// FailedChecksRising is info and a Warning.
		{"severity info problem firing", event.Rules{}, alert("firing", "alertname", "FlaggerCanaryFailedChecksRising", "severity", "info"), event.TypeWarning},
		{"custom lifecycle label", event.Rules{LifecycleLabel: "notice"}, alert("firing", "alertname", "Custom", "notice", "true"), event.TypeNormal},
		{"custom lifecycle label ignores the default", event.Rules{LifecycleLabel: "notice"}, alert("firing", "alertname", "Custom", "lifecycle", "true"), event.TypeWarning},
		{"lifecycle alertname listed", event.Rules{LifecycleAlerts: []string{"Custom"}}, alert("firing", "alertname", "Custom"), event.TypeNormal},
		{"lifecycle severities opted in", event.Rules{LifecycleSeverities: []string{"info"}}, alert("firing", "alertname", "Custom", "severity", "info"), event.TypeNormal},
		{"custom severity label", event.Rules{LifecycleSeverities: []string{"info"}, SeverityLabel: "level"}, alert("firing", "alertname", "Custom", "level", "info"), event.TypeNormal},
		// Flagger's own type for the step, from the notice: its "Halt …
		// waiting for promotion approval" is a Warning.
		{"event_type annotation", event.Rules{}, withAnnotation(alert("firing", "alertname", "FlaggerCanaryWaitingPromotion", "lifecycle", "true"), "event_type", "Warning"), event.TypeWarning},
		{"event_type annotation Normal", event.Rules{}, withAnnotation(alert("firing", "alertname", "X"), "event_type", "Normal"), event.TypeNormal},
		{"event_type annotation not a type", event.Rules{}, withAnnotation(alert("firing", "alertname", "X", "lifecycle", "true"), "event_type", "warning"), event.TypeNormal},
		{"event_type ignored when resolved", forwardAll, withAnnotation(alert("resolved", "alertname", "X"), "event_type", "Warning"), event.TypeNormal},
		{"custom event_type annotation", event.Rules{EventTypeAnnotation: "type"}, withAnnotation(alert("firing", "alertname", "X"), "type", "Normal"), event.TypeNormal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := mapOne(t, tc.rules, tc.alert)
			if got := e.Metadata[event.KeyType]; got != tc.want {
				t.Errorf("eventType %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNameAndNamespace(t *testing.T) {
	e, _ := mapOne(t, event.Rules{}, alert("firing", "name", "target-deploy"))
	if e.Name != "podinfo" {
		t.Errorf("canary label should win over name: %q", e.Name)
	}
	e, _ = mapOne(t, event.Rules{}, alert("firing", "canary", "", "name", "podinfo-deploy"))
	if e.Name != "podinfo-deploy" {
		t.Errorf("name fallback: %q", e.Name)
	}
	_, rej := mapOne(t, event.Rules{}, alert("firing", "canary", ""))
	if len(rej) != 1 || rej[0].Reason != event.ReasonMissingName {
		t.Errorf("missing name: %+v", rej)
	}
	_, rej = mapOne(t, event.Rules{}, alert("firing", "namespace", ""))
	if len(rej) != 1 || rej[0].Reason != event.ReasonMissingNamespace {
		t.Errorf("missing namespace: %+v", rej)
	}
	e, _ = mapOne(t, event.Rules{NamespaceLabels: []string{"exported_namespace", "namespace"}}, alert("firing", "exported_namespace", "real"))
	if e.Namespace != "real" {
		t.Errorf("namespace labels order: %q", e.Namespace)
	}
}

func TestTimestamp(t *testing.T) {
	e, _ := mapOne(t, event.Rules{}, alert("firing"))
	if e.Metadata[event.KeyTimestamp] != "1795503264000" {
		t.Errorf("firing timestamp %s", e.Metadata[event.KeyTimestamp])
	}
	e, _ = mapOne(t, forwardAll, alert("resolved"))
	if e.Metadata[event.KeyTimestamp] != "1795503268000" {
		t.Errorf("resolved timestamp %s", e.Metadata[event.KeyTimestamp])
	}
	a := alert("resolved")
	a.EndsAt = time.Time{}
	e, _ = mapOne(t, forwardAll, a)
	if e.Metadata[event.KeyTimestamp] != "946684800000" {
		t.Errorf("resolved without endsAt should use the clock: %s", e.Metadata[event.KeyTimestamp])
	}
}

func TestChecksum(t *testing.T) {
	sum := func(a payload.Alert) string { e, _ := mapOne(t, event.Rules{}, a); return e.Checksum }
	base := alert("firing")
	if sum(base) != sum(alert("firing")) {
		t.Error("same alert, different checksum")
	}
	later := alert("firing")
	later.EndsAt = t0.Add(time.Hour) // Alertmanager moves a firing alert's endsAt on every resend
	later.Annotations = map[string]string{"summary": "value changed"}
	if sum(base) != sum(later) {
		t.Error("a re-sent firing alert must keep its checksum")
	}
	refired := alert("firing")
	refired.StartsAt = t0.Add(time.Minute)
	if sum(base) == sum(refired) {
		t.Error("a new firing must get a new checksum")
	}
	if sum(base) == sum(alert("resolved")) {
		t.Error("resolution must get a new checksum")
	}
	noFP := alert("firing")
	noFP.Fingerprint = ""
	again := alert("firing")
	again.Fingerprint = ""
	other := alert("firing", "canary", "other")
	other.Fingerprint = ""
	if sum(noFP) == sum(other) || sum(noFP) != sum(again) {
		t.Error("checksum without a fingerprint must derive from the labels")
	}
	if c := sum(base); len(c) != 16 || strings.Trim(c, "0123456789abcdef") != "" {
		t.Errorf("checksum %q: want 16 hex digits", c)
	}
}

func TestMessage(t *testing.T) {
	a := alert("firing")
	a.Annotations = map[string]string{"message": "New revision detected! Scaling up podinfo.test", "summary": "ignored"}
	if e, _ := mapOne(t, event.Rules{}, a); e.Metadata[event.KeyMessage] != "New revision detected! Scaling up podinfo.test" {
		t.Errorf("message annotation: %q", e.Metadata[event.KeyMessage])
	}
	a.Annotations = map[string]string{"description": "only d"}
	if e, _ := mapOne(t, event.Rules{}, a); e.Metadata[event.KeyMessage] != "only d" {
		t.Errorf("description alone: %q", e.Metadata[event.KeyMessage])
	}
	if e, _ := mapOne(t, event.Rules{}, alert("firing", "alertname", "X")); e.Metadata[event.KeyMessage] != "s" {
		t.Errorf("summary alone: %q", e.Metadata[event.KeyMessage])
	}
	a.Annotations = nil
	if e, _ := mapOne(t, event.Rules{}, a); e.Metadata[event.KeyMessage] != "alert is firing" {
		t.Errorf("empty message must be replaced: %q", e.Metadata[event.KeyMessage])
	}
	a.Labels["alertname"] = "canary_rollback"
	if e, _ := mapOne(t, event.Rules{}, a); e.Metadata[event.KeyMessage] != "canary_rollback is firing" {
		t.Errorf("empty message must be replaced: %q", e.Metadata[event.KeyMessage])
	}
	// A template that fails only on some alerts falls back to the default.
	r := event.Rules{MessageTemplate: `{{ if eq .Labels.alertname "Boom" }}{{ template "nope" }}{{ end }}custom`}
	m := mustCompile(t, r)
	res := m.Map(&payload.Message{Alerts: []payload.Alert{alert("firing", "alertname", "Boom"), alert("firing", "alertname", "Fine")}}, now)
	if res.TemplateErr == nil || res.Events[0].Metadata[event.KeyMessage] != "s" || res.Events[1].Metadata[event.KeyMessage] != "custom" {
		t.Errorf("template failure handling: %v %+v", res.TemplateErr, res.Events)
	}
}

func TestMetadata(t *testing.T) {
	a := alert("firing", "severity", "warning", "team", "a")
	a.Annotations["team"] = "from-annotation"
	e, _ := mapOne(t, event.Rules{Metadata: event.MetadataRules{Labels: []string{"severity", "team", "absent"}, Annotations: []string{"team"}}}, a)
	if e.Metadata["severity"] != "warning" || e.Metadata["team"] != "from-annotation" {
		t.Errorf("extra metadata: %v", e.Metadata)
	}
	if _, ok := e.Metadata["absent"]; ok {
		t.Error("absent label must not add an empty key")
	}
	if len(e.Metadata) != 5 {
		t.Errorf("metadata %v", e.Metadata)
	}
}

func TestRulesCompileErrors(t *testing.T) {
	for name, r := range map[string]event.Rules{
		"unknown phase":        {Phases: map[string]string{"X": "Finalizing"}},
		"reserved label key":   {Metadata: event.MetadataRules{Labels: []string{"eventType"}}},
		"reserved annotation":  {Metadata: event.MetadataRules{Annotations: []string{"timestamp"}}},
		"empty metadata name":  {Metadata: event.MetadataRules{Labels: []string{""}}},
		"template syntax":      {MessageTemplate: "{{ .Labels"},
		"template bad field":   {MessageTemplate: "{{ .Nope }}"},
		"template unknown fun": {MessageTemplate: "{{ shout .Name }}"},
	} {
		if _, err := r.Compile(); err == nil {
			t.Errorf("%s: Compile accepted %+v", name, r)
		}
	}
}

// An alert carrying Flagger's checksum (the mixin copies it from
// flagger_canary_revision_info) gives the event Flagger's value, shared by
// every event of the revision; delivery still tells the events apart by Key.
func TestChecksumFromAnnotation(t *testing.T) {
	withSum := func(a payload.Alert, sum string) payload.Alert {
		a.Annotations = map[string]string{"summary": "s", "checksum": sum}
		return a
	}
	first, _ := mapOne(t, event.Rules{}, withSum(alert("firing", "alertname", "FlaggerCanaryNewRevision", "lifecycle", "true"), "7c9d467496"))
	second, _ := mapOne(t, event.Rules{}, withSum(alert("firing", "alertname", "FlaggerCanaryPromoted", "lifecycle", "true"), "7c9d467496"))
	if first.Checksum != "7c9d467496" || second.Checksum != "7c9d467496" {
		t.Errorf("checksums %q, %q: want Flagger's from the annotation", first.Checksum, second.Checksum)
	}
	if first.Key == "" || first.Key == second.Key {
		t.Errorf("keys %q, %q: two alerts must be two deliveries", first.Key, second.Key)
	}
	plain, _ := mapOne(t, event.Rules{}, alert("firing", "alertname", "FlaggerCanaryNewRevision"))
	if plain.Checksum != plain.Key || len(plain.Key) != 16 {
		t.Errorf("without the annotation the checksum is the key: %q, %q", plain.Checksum, plain.Key)
	}
	long, _ := mapOne(t, event.Rules{}, withSum(alert("firing", "alertname", "X"), strings.Repeat("x", 65)))
	if long.Checksum != long.Key {
		t.Errorf("a 65-byte annotation is not a checksum: %q", long.Checksum)
	}
	custom, _ := mapOne(t, event.Rules{ChecksumAnnotation: "revision"}, withSum(alert("firing", "alertname", "X"), "abc"))
	if custom.Checksum == "abc" {
		t.Error("a custom checksum_annotation must not read the default one")
	}
}
