package exporter_test

import (
	"context"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

func ids(ns, canary string, extra ...string) map[string]string {
	m := map[string]string{"namespace": ns, "canary": canary}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// TestRolloutIsExported drives canaries through the phases Flagger writes,
// through the status subresource, and checks /metrics at every step.
func TestRolloutIsExported(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	createNamespaces(t, c, "test", "prod")
	e := startExporter(t, c.Kubeconfig)
	e.waitReady(t)

	// The Canary's name differs from its target's: both must be labelled.
	cr := c.CreateCanary(t, "test", "podinfo-canary", "podinfo")
	c.CreateCanary(t, "prod", "backend", "backend")
	e.expect(t, "new canary without status", func(f map[string]*dto.MetricFamily) string {
		return all(
			want(f, "flagger_canary_status", ids("test", "podinfo-canary", "name", "podinfo"), 1),
			want(f, "flagger_canary_status_phase", ids("test", "podinfo-canary", "phase", "Unknown"), 1),
			want(f, "flagger_canary_weight", ids("test", "podinfo-canary", "workload", "podinfo-primary"), 100),
			want(f, "flagger_canary_weight", ids("test", "podinfo-canary", "workload", "podinfo"), 0),
			want(f, "flagger_canary_total", map[string]string{"namespace": "test"}, 1),
			want(f, "flagger_canary_total", map[string]string{"namespace": "prod"}, 1),
			want(f, "flagger_canary_info", ids("test", "podinfo-canary", "target_kind", "Deployment", "target_name", "podinfo", "provider", "istio", "strategy", "canary"), 1),
			want(f, "flagger_canary_analysis_threshold", ids("test", "podinfo-canary"), 5),
			want(f, "flagger_canary_analysis_interval_seconds", ids("test", "podinfo-canary"), 15),
		)
	})

	steps := []struct {
		status       map[string]any
		flagger      float64
		primary      float64
		transitioned string
	}{
		{map[string]any{"phase": "Initializing"}, 1, 100, "Initializing"},
		{map[string]any{"phase": "Initialized", "lastTransitionTime": "2026-11-24T10:00:00Z"}, 1, 100, "Initialized"},
		{map[string]any{"phase": "Progressing", "canaryWeight": int64(10)}, 0, 90, "Progressing"},
		{map[string]any{"phase": "Progressing", "canaryWeight": int64(20), "failedChecks": int64(1)}, 0, 80, ""},
		{map[string]any{"phase": "Progressing", "canaryWeight": int64(50), "failedChecks": int64(0)}, 0, 50, ""},
		// Promoting with status.canaryWeight 0 (after WaitingPromotion):
		// Flagger's routes are still at the last step, maxWeight 50.
		{map[string]any{"phase": "Promoting", "canaryWeight": int64(0)}, 1, 50, "Promoting"},
		{map[string]any{"phase": "Finalising"}, 1, 100, "Finalising"},
		{map[string]any{"phase": "Succeeded", "conditions": []any{map[string]any{"type": "Promoted", "status": "True", "reason": "Succeeded"}}}, 1, 100, "Succeeded"},
	}
	for _, s := range steps {
		cr = c.SetCanaryStatus(t, cr, s.status)
		phase := s.status["phase"].(string)
		e.expect(t, "step "+phase, func(f map[string]*dto.MetricFamily) string {
			checks := []string{
				want(f, "flagger_canary_status", ids("test", "podinfo-canary", "name", "podinfo"), s.flagger),
				want(f, "flagger_canary_status_phase", ids("test", "podinfo-canary", "phase", phase), 1),
				want(f, "flagger_canary_status_phase", ids("test", "podinfo-canary", "phase", "Unknown"), 0),
				want(f, "flagger_canary_weight", ids("test", "podinfo-canary", "workload", "podinfo-primary"), s.primary),
				want(f, "flagger_canary_weight", ids("test", "podinfo-canary", "workload", "podinfo"), 100-s.primary),
			}
			if s.transitioned != "" {
				checks = append(checks, want(f, "flagger_canary_transitions_total", ids("test", "podinfo-canary", "phase", s.transitioned), 1))
			}
			return all(checks...)
		})
	}
	e.expect(t, "after success", func(f map[string]*dto.MetricFamily) string {
		return all(
			want(f, "flagger_canary_status_promoted", ids("test", "podinfo-canary", "status", "True"), 1),
			want(f, "flagger_canary_transitions_total", ids("test", "podinfo-canary", "phase", "Progressing"), 1),
			want(f, "flagger_canary_status_last_transition_timestamp_seconds", ids("test", "podinfo-canary"), 1795514400),
		)
	})

	// A failing rollout: failed checks reach the threshold, Flagger marks it Failed.
	be := c.GetCanary(t, "prod", "backend")
	be = c.SetCanaryStatus(t, be, map[string]any{"phase": "Progressing", "canaryWeight": int64(10)})
	for i := int64(1); i <= 5; i++ {
		be = c.SetCanaryStatus(t, be, map[string]any{"failedChecks": i})
	}
	c.SetCanaryStatus(t, be, map[string]any{"phase": "Failed", "canaryWeight": int64(0)})
	e.expect(t, "failed canary", func(f map[string]*dto.MetricFamily) string {
		return all(
			want(f, "flagger_canary_status", ids("prod", "backend", "name", "backend"), 2),
			want(f, "flagger_canary_status_failed_checks", ids("prod", "backend"), 5),
			want(f, "flagger_canary_transitions_total", ids("prod", "backend", "phase", "Failed"), 1),
		)
	})

	// Deleting a canary removes every one of its series at the next scrape.
	if err := c.Dynamic.Resource(kube.CanaryResource).Namespace("test").Delete(context.Background(), "podinfo-canary", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "deleted canary", func(f map[string]*dto.MetricFamily) string {
		if n := series(f, "test", "podinfo-canary"); n != 0 {
			return "series of the deleted canary remain"
		}
		if len(testutil.Values(f, "flagger_canary_total", map[string]string{"namespace": "test"})) != 0 {
			return "flagger_canary_total for an empty namespace remains"
		}
		return want(f, "flagger_exporter_canaries", nil, 1)
	})
	fams, err := harness.Scrape(t, e.url+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	checkDocumented(t, fams, stepFamilies...)
	if strings.Contains(e.Output(), "level=error") {
		t.Errorf("exporter logged errors during a normal rollout:\n%s", e.Output())
	}
}
