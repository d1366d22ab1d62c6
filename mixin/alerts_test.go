package mixin_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

const (
	defaultExporterJob = "flagger-exporter"
	runbookURLPrefix   = "https://github.com/flagger-monitoring/flagger-monitoring/blob/main/docs/runbooks.md#"
	lifecycleGroup     = "flagger-canary-lifecycle"
	rollbackGroup      = "flagger-canary-rollback"
)

var alertName = regexp.MustCompile(`^Flagger[A-Z][A-Za-z0-9]*$`)

// canary_rollback is Flagger's documented alert, kept verbatim so that
// routes written for Flagger keep matching.
func TestCanaryRollbackIsFlaggers(t *testing.T) {
	var found []groupedRule
	for _, a := range alerts(t) {
		if a.Alert == "canary_rollback" {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one canary_rollback, got %d", len(found))
	}
	a := found[0]
	if a.Group != rollbackGroup {
		t.Errorf("canary_rollback is in group %s, want its own group %s", a.Group, rollbackGroup)
	}
	if a.Expr != "flagger_canary_status > 1" || a.For == nil || *a.For != "1m" {
		t.Errorf("canary_rollback: expr %q for %v, want Flagger's `flagger_canary_status > 1` for 1m", a.Expr, a.For)
	}
	if len(a.Labels) != 1 || a.Labels["severity"] != "warning" {
		t.Errorf("canary_rollback labels %v, want only severity: warning", a.Labels)
	}
	want := map[string]string{"summary": "Canary failed", "description": "Workload {{ $labels.name }} namespace {{ $labels.namespace }}"}
	if len(a.Annotations) != len(want) || a.Annotations["summary"] != want["summary"] || a.Annotations["description"] != want["description"] {
		t.Errorf("canary_rollback annotations %v, want %v", a.Annotations, want)
	}
}

// The conventions of monitoring mixins (what mixtool lint checks, and more).
func TestAlertConventions(t *testing.T) {
	runbooks, err := os.ReadFile(repoPath(t, "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range alerts(t) {
		if a.Alert == "canary_rollback" {
			continue
		}
		name := a.Alert
		if seen[name] {
			t.Errorf("%s: defined twice", name)
		}
		seen[name] = true
		if !alertName.MatchString(name) {
			t.Errorf("%s: not CamelCase with the Flagger prefix", name)
		}
		// notice only for the lifecycle notices (checked below): info is
		// context that kube-prometheus-stack's InfoInhibitor may mute.
		switch a.Labels["severity"] {
		case "critical", "warning", "info", "notice":
		default:
			t.Errorf("%s: severity %q not one of critical, warning, info, notice", name, a.Labels["severity"])
		}
		if a.Labels["severity"] == "notice" && a.Group != lifecycleGroup {
			t.Errorf("%s: severity notice is for lifecycle notices only", name)
		}
		if a.For == nil {
			t.Errorf("%s: no `for`", name)
		}
		summary := a.Annotations["summary"]
		if summary == "" || strings.Contains(summary, "{{") || !strings.HasSuffix(summary, ".") {
			t.Errorf("%s: summary %q must be static text ending with a period", name, summary)
		}
		if a.Annotations["description"] == "" {
			t.Errorf("%s: no description", name)
		}
		if want := runbookURLPrefix + strings.ToLower(name); a.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", name, a.Annotations["runbook_url"], want)
		}
		if !regexp.MustCompile(`(?m)^## ` + name + `$`).Match(runbooks) {
			t.Errorf("%s: docs/runbooks.md has no `## %s` section (the runbook_url anchor)", name, name)
		}
		for k := range a.Annotations {
			switch k {
			case "summary", "description", "runbook_url":
			case "message", "notification", "event_type", "flagger_severity":
				// Flagger's event text, its chat text and its event type; a
				// failed promotion has Flagger's chat text too.
				if a.Group != lifecycleGroup && !(k == "notification" && name == "FlaggerCanaryPromotionFailed") {
					t.Errorf("%s: %s annotation outside the lifecycle group", name, k)
				}
			case "target", "failed_checks_threshold", "progress_deadline", "traffic_routing":
				// Flagger's chat fields, on the two notices it sends them with.
				if name != "FlaggerCanaryInitialized" && name != "FlaggerCanaryNewRevision" {
					t.Errorf("%s: Flagger sends the %s field only with its initialisation and new-revision messages", name, k)
				}
			case "checksum":
				if !strings.HasPrefix(name, "FlaggerCanary") || !strings.Contains(a.Annotations[k], "flagger_canary_revision_info{") {
					t.Errorf("%s: checksum annotation %q: only per-canary alerts carry it, read from flagger_canary_revision_info", name, a.Annotations[k])
				}
			case "last_step":
				// Flagger's latest step, quoted by chat under a problem.
				if a.Group == lifecycleGroup || !strings.HasPrefix(name, "FlaggerCanary") || !strings.Contains(a.Annotations[k], "flagger_canary_last_step_timestamp_seconds{") {
					t.Errorf("%s: last_step annotation %q: only per-canary problems carry it, read from flagger_canary_last_step_timestamp_seconds", name, a.Annotations[k])
				}
			default:
				t.Errorf("%s: unexpected annotation %s", name, k)
			}
		}
		if a.Group == lifecycleGroup {
			if et := a.Annotations["event_type"]; et != "Normal" && et != "Warning" {
				t.Errorf("%s: event_type %q, want Flagger's Normal or Warning", name, et)
			}
			if a.Labels["severity"] != "notice" || a.Labels["phase"] == "" || a.Labels["lifecycle"] != "true" || a.Annotations["message"] == "" || a.Annotations["notification"] == "" {
				t.Errorf("%s: a lifecycle notice needs severity notice, lifecycle=\"true\", a phase label and message and notification annotations", name)
			}
		}
	}
	// Every section of the runbook belongs to an alert.
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)$`).FindAllSubmatch(runbooks, -1) {
		if h := string(m[1]); !seen[h] && h != "canary_rollback" {
			t.Errorf("docs/runbooks.md: section %s names no alert", h)
		}
	}
}

// The conventional alerts, lifecycle notices and recording rules read only
// the exporter's job, so that a Prometheus that scrapes Flagger too does not
// count every canary twice.
func TestRulesReadOnlyTheExporterJob(t *testing.T) {
	for _, r := range loadRules(t) {
		if r.Group == rollbackGroup {
			continue
		}
		expr, err := promqlParser.ParseExpr(r.Expr)
		if err != nil {
			t.Fatalf("%s: %v", r.Alert+r.Record, err)
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok || !isExporterSeries(vs.Name) {
				return nil
			}
			for _, m := range vs.LabelMatchers {
				if m.Name == "job" && m.Value == defaultExporterJob {
					return nil
				}
			}
			t.Errorf("%s: %s without job=%q", r.Alert+r.Record, vs, defaultExporterJob)
			return nil
		})
	}
}

func isExporterSeries(name string) bool {
	return name == "up" || strings.HasPrefix(name, "flagger_canary_") || strings.HasPrefix(name, "flagger_exporter_")
}
