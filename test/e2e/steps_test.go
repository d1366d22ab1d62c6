package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// Alertnames, short.
const (
	initialized   = "FlaggerCanaryInitialized"
	newRevision   = "FlaggerCanaryNewRevision"
	waiting       = "FlaggerCanaryWaitingPromotion"
	promoted      = "FlaggerCanaryPromoted"
	failed        = "FlaggerCanaryFailed"
	rolledBack    = "FlaggerCanaryRolledBack"
	flaggerRollbk = "canary_rollback"
)

// run is one simulated canary moving through the pipeline.
type run struct {
	t      *testing.T
	s      *stack.Stack
	c      *sim.Canary
	target string
}

// object is how the templates name a canary: canary.namespace.
func (r *run) object() string { return r.c.Name + "." + r.c.Namespace }

// play applies a scenario one step at a time. After each step it waits
// until the exporter serves the step and Prometheus has scraped it (so no
// step is too short to be seen, whatever the machine's speed), and after a
// step that changes which lifecycle alerts fire, until Slack and Teams got
// that change: the next change then cannot fold into the same message.
func (r *run) play(sc sim.Scenario) {
	r.t.Helper()
	if err := sc.CanStartFrom(r.c.Status().Phase); err != nil {
		r.t.Fatal(err)
	}
	for _, st := range sc.Steps {
		prev := r.c.Status().Phase
		got, err := r.c.Apply(context.Background(), st)
		if err != nil {
			r.t.Fatal(err)
		}
		r.expectExporter(st.Name, got)
		r.expectScraped(st.Name, got)
		if want := chatAfter(prev, got.Phase); want != nil {
			r.waitChat(st.Name, want)
		}
	}
}

// chatAfter is the mixin's lifecycle notices as a model: the notice a phase
// change sends, one message each as Flagger posts its steps (nil: none).
// NewRevision fires for the whole rollout, Progressing to Finalising, and
// is announced once.
func chatAfter(prev, next string) []string {
	switch {
	case next == prev:
		return nil
	case next == sim.Initialized:
		return []string{initialized}
	case next == sim.Progressing && (prev == sim.Initialized || prev == sim.Succeeded || prev == sim.Failed):
		return []string{newRevision}
	case next == sim.WaitingPromotion:
		return []string{waiting}
	case next == sim.Succeeded:
		return []string{promoted}
	case next == sim.Failed:
		return []string{failed}
	}
	return nil
}

// flaggerStatus is flagger_canary_status as Flagger defines it.
func flaggerStatus(phase string) float64 {
	switch phase {
	case sim.Progressing:
		return 0
	case sim.Failed:
		return 2
	}
	return 1
}

// expectExporter: the exporter's /metrics says what the simulator wrote.
func (r *run) expectExporter(step string, st sim.Status) {
	r.t.Helper()
	ids := func(kv ...string) map[string]string {
		m := map[string]string{"namespace": r.c.Namespace, "canary": r.c.Name}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	harness.Eventually(r.t, 15*time.Second, func() string {
		f, err := harness.Scrape(r.t, r.s.ExporterURL+"/metrics")
		if err != nil {
			return err.Error()
		}
		var diffs []string
		check := func(family string, labels map[string]string, want float64) {
			if got := testutil.Values(f, family, labels); len(got) != 1 || got[0] != want {
				diffs = append(diffs, fmt.Sprintf("%s%v = %v, want %v", family, labels, got, want))
			}
		}
		check("flagger_canary_status", ids("name", r.target), flaggerStatus(st.Phase))
		check("flagger_canary_status_phase", ids("phase", st.Phase), 1)
		if n := sum(f, "flagger_canary_status_phase", ids()); n != 1 {
			diffs = append(diffs, fmt.Sprintf("%v phases at 1", n))
		}
		check("flagger_canary_status_failed_checks", ids(), float64(st.FailedChecks))
		check("flagger_canary_status_canary_weight", ids(), float64(st.CanaryWeight))
		check("flagger_canary_status_iterations", ids(), float64(st.Iterations))
		check("flagger_canary_weight", ids("workload", r.target), routeWeight(st))
		check("flagger_canary_weight", ids("workload", r.target+"-primary"), 100-routeWeight(st))
		check("flagger_canary_status_promoted", ids("status", st.Promoted.Status), 1)
		check("flagger_canary_status_last_transition_timestamp_seconds", ids(), float64(st.LastTransitionTime.Unix()))
		if len(diffs) > 0 {
			return fmt.Sprintf("%s %s: %s", r.object(), step, strings.Join(diffs, "; "))
		}
		return ""
	})
}

func sum(f map[string]*dto.MetricFamily, family string, labels map[string]string) float64 {
	var n float64
	for _, v := range testutil.Values(f, family, labels) {
		n += v
	}
	return n
}

// expectScraped waits until Prometheus holds the step: phase, failed
// checks, weight and the transition time of this very write.
func (r *run) expectScraped(step string, st sim.Status) {
	r.t.Helper()
	sel := fmt.Sprintf(`namespace=%q, canary=%q`, r.c.Namespace, r.c.Name)
	q := fmt.Sprintf(`flagger_canary_status_phase{%[1]s, phase=%[2]q} == 1
		and on (namespace, canary) flagger_canary_status_failed_checks{%[1]s} == %[3]d
		and on (namespace, canary) flagger_canary_status_canary_weight{%[1]s} == %[4]d
		and on (namespace, canary) flagger_canary_status_last_transition_timestamp_seconds{%[1]s} == %[5]d`,
		sel, st.Phase, st.FailedChecks, st.CanaryWeight, st.LastTransitionTime.Unix())
	harness.Eventually(r.t, 15*time.Second, func() string {
		if v, err := r.s.Query(q); err != nil || len(v) != 1 {
			return fmt.Sprintf("prometheus has not scraped %s %s: %v %v", r.object(), step, v, err)
		}
		return ""
	})
}

// waitChat waits until the latest Slack message and Teams card about this
// canary announce exactly the alerts in want as firing.
func (r *run) waitChat(step string, want []string) {
	r.t.Helper()
	want = slices.Sorted(slices.Values(want))
	harness.Eventually(r.t, 30*time.Second, func() string {
		for _, k := range []*stack.Sink{r.s.Slack, r.s.Teams} {
			msgs := skewed(r.t, k.Name, chat(r.t, k, r.object()))
			if len(msgs) == 0 {
				return fmt.Sprintf("%s %s: no %s message yet, want %v", r.object(), step, k.Name, want)
			}
			if got := msgs[len(msgs)-1].firing(); !slices.Equal(got, want) {
				return fmt.Sprintf("%s %s: last %s message announces %v, want %v", r.object(), step, k.Name, got, want)
			}
		}
		return ""
	})
}

// routeWeight is the canary's traffic share as Flagger's router reports it
// for the e2e canaries (istio, stepWeight 10, maxWeight 50): the status
// weight, except that WaitingPromotion (and a Promoting entered from it)
// resets status.canaryWeight to 0 while the routes stay at maxWeight.
// test/conformance holds this against the real Flagger.
func routeWeight(st sim.Status) float64 {
	if st.Phase == "WaitingPromotion" || (st.Phase == "Promoting" && st.CanaryWeight == 0) {
		return 50
	}
	return float64(st.CanaryWeight)
}
