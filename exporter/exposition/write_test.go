package exposition

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

func facts(ns, name, target string, phase flagger.Phase) canary.Facts {
	return canary.Facts{
		Namespace: ns, Name: name, TargetKind: "Deployment", TargetName: target, Provider: "istio",
		Strategy: canary.StrategyCanary, Phase: phase, Promoted: canary.ConditionUnknown,
		FailedChecks: 3, CanaryWeight: 30, Iterations: 0, LastTransition: 1700000000.5, Created: 1690000000,
		Threshold: 5, AnalysisIterations: canary.Absent, MaxWeight: 50, StepWeight: 10,
		IntervalSeconds: 15, ProgressDeadlineSeconds: 600, PromotionWeight: 50,
		Checksum: "b" + name[:1] + "7c9d4674",
		Webhooks: [canary.NumHookTypes]uint16{0, 0, 0, 0, 0, 0, 1, 2}, // rollback, confirm-traffic-increase ×2
	}
}

func TestWriteParsesAndCarriesEveryFact(t *testing.T) {
	weird := facts("test", `we"ird\name`+"\n", `tar"get`, flagger.PhaseFailed)
	var tr [NumTransitionPhases]uint64
	tr[flagger.PhaseProgressing], tr[flagger.PhaseFailed] = 2, 1
	cs := []*Canary{
		Prepare(facts("alpha", "podinfo", "podinfo", flagger.PhaseProgressing), [NumTransitionPhases]uint64{}),
		Prepare(facts("alpha", "second", "backend", flagger.PhaseWaitingPromotion), [NumTransitionPhases]uint64{}),
		Prepare(weird, tr),
	}
	var buf bytes.Buffer
	if err := Write(&buf, cs); err != nil {
		t.Fatal(err)
	}
	fams := testutil.ParseText(t, buf.Bytes())
	// Every family but analysis_iterations (absent on all three) has samples.
	if len(fams) != len(Families)-1 {
		t.Errorf("want %d families, got %d", len(Families)-1, len(fams))
	}
	for _, f := range Families {
		got, ok := fams[f.Name]
		if !ok {
			continue
		}
		if strings.ToLower(got.GetType().String()) != f.Type || got.GetHelp() != f.Help {
			t.Errorf("%s: type %v help %q", f.Name, got.GetType(), got.GetHelp())
		}
	}

	id := map[string]string{"namespace": "alpha", "canary": "podinfo"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range id {
			m[a] = b
		}
		return m
	}
	if v := testutil.Value(t, fams, "flagger_canary_status", with("name", "podinfo")); v != 0 {
		t.Errorf("status of Progressing = %v", v)
	}
	if p, c := testutil.Value(t, fams, "flagger_canary_weight", with("workload", "podinfo-primary")), testutil.Value(t, fams, "flagger_canary_weight", with("workload", "podinfo")); p != 70 || c != 30 {
		t.Errorf("weights %v/%v", p, c)
	}
	if v := testutil.Value(t, fams, "flagger_canary_analysis_webhooks", with("type", "confirm-traffic-increase")); v != 2 {
		t.Errorf("confirm-traffic-increase webhooks %v", v)
	}
	if got := testutil.Values(fams, "flagger_canary_analysis_webhooks", id); len(got) != 2 {
		t.Errorf("webhook series %v, want one per type present (rollback, confirm-traffic-increase)", got)
	}
	if v := testutil.Value(t, fams, "flagger_canary_revision_info", with("checksum", "bp7c9d4674")); v != 1 {
		t.Errorf("revision info %v", v)
	}
	if got := testutil.Values(fams, "flagger_canary_revision_info", map[string]string{"namespace": "test"}); len(got) != 1 {
		t.Errorf("one revision series per canary, got %v", got)
	}
	if v := testutil.Value(t, fams, "flagger_canary_total", map[string]string{"namespace": "alpha"}); v != 2 {
		t.Errorf("alpha total %v", v)
	}
	if v := testutil.Value(t, fams, "flagger_canary_info", with("strategy", "canary")); v != 1 {
		t.Errorf("info %v", v)
	}
	for _, p := range flagger.PhaseNames {
		want := 0.0
		if p == "Progressing" {
			want = 1
		}
		if v := testutil.Value(t, fams, "flagger_canary_status_phase", with("phase", p)); v != want {
			t.Errorf("phase %s = %v", p, v)
		}
	}
	if v := testutil.Value(t, fams, "flagger_canary_status_promoted", with("status", "Unknown")); v != 1 {
		t.Errorf("promoted Unknown = %v", v)
	}
	if v := testutil.Value(t, fams, "flagger_canary_status_last_transition_timestamp_seconds", id); v != 1700000000.5 {
		t.Errorf("last transition %v", v)
	}
	if _, ok := fams["flagger_canary_analysis_iterations"]; ok {
		t.Errorf("absent spec.analysis.iterations must have no series")
	}

	// Escaped label values round-trip exactly.
	wid := map[string]string{"namespace": "test", "canary": weird.Name}
	if v := testutil.Value(t, fams, "flagger_canary_status", wid); v != 2 {
		t.Errorf("weird canary status %v", v)
	}
	if v := testutil.Value(t, fams, "flagger_canary_weight", map[string]string{"canary": weird.Name, "workload": `tar"get-primary`}); v != 70 {
		t.Errorf("weird weight %v", v)
	}
	if v := testutil.Value(t, fams, "flagger_canary_transitions_total", map[string]string{"canary": weird.Name, "phase": "Progressing"}); v != 2 {
		t.Errorf("transitions %v", v)
	}
	assertNotInterleaved(t, buf.Bytes())
}

// assertNotInterleaved checks that every family's lines form one block, HELP
// and TYPE once each, before its samples.
func assertNotInterleaved(t *testing.T, text []byte) {
	t.Helper()
	done := map[string]bool{}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var name string
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			name = strings.Fields(line)[2]
		default:
			name = line[:strings.IndexAny(line, "{ ")]
		}
		if name != current {
			if done[name] {
				t.Fatalf("family %s interleaved", name)
			}
			done[current] = true
			current = name
		}
	}
}

func TestWeightsClampAndSkipMissingTarget(t *testing.T) {
	over := facts("ns", "over", "t", flagger.PhaseProgressing)
	over.CanaryWeight = 250
	none := facts("ns", "none", "", flagger.PhaseProgressing)
	var buf bytes.Buffer
	if err := Write(&buf, []*Canary{Prepare(none, [NumTransitionPhases]uint64{}), Prepare(over, [NumTransitionPhases]uint64{})}); err != nil {
		t.Fatal(err)
	}
	fams := testutil.ParseText(t, buf.Bytes())
	if n := len(fams["flagger_canary_weight"].Metric); n != 2 {
		t.Errorf("want 2 weight series (none for the canary without target), got %d", n)
	}
	if v := testutil.Value(t, fams, "flagger_canary_weight", map[string]string{"workload": "t-primary"}); v != 0 {
		t.Errorf("primary weight %v", v)
	}
	if v := testutil.Value(t, fams, "flagger_canary_status_canary_weight", map[string]string{"canary": "over"}); v != 250 {
		t.Errorf("raw weight must be kept: %v", v)
	}
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil); err != nil {
		t.Fatal(err)
	}
	testutil.ParseText(t, buf.Bytes())
	if n := strings.Count(buf.String(), "# TYPE "); n != len(Families) {
		t.Errorf("want TYPE for all %d families of an empty fleet, got %d", len(Families), n)
	}
}

func TestEveryFamilyHasAWriter(t *testing.T) {
	for _, f := range Families {
		if f.write == nil {
			t.Errorf("%s has no writer", f.Name)
		}
	}
}

// TestWeightIsTheRoutes: flagger_canary_weight is Facts.RouteWeight() (what
// Flagger's router reports), flagger_canary_status_canary_weight the raw
// status.canaryWeight.
func TestWeightIsTheRoutes(t *testing.T) {
	waiting := facts("ns", "waiting", "w", flagger.PhaseWaitingPromotion)
	waiting.CanaryWeight = 0 // setStatusPhase(WaitingPromotion) zeroes it
	bg := facts("ns", "bg", "b", flagger.PhaseProgressing)
	bg.Provider, bg.Strategy, bg.Iterations, bg.AnalysisIterations, bg.CanaryWeight = canary.KubernetesProvider, canary.StrategyBlueGreen, 1, 10, 0
	succeeded := facts("ns", "done", "d", flagger.PhaseSucceeded)
	var buf bytes.Buffer
	cs := []*Canary{Prepare(bg, [NumTransitionPhases]uint64{}), Prepare(succeeded, [NumTransitionPhases]uint64{}), Prepare(waiting, [NumTransitionPhases]uint64{})}
	if err := Write(&buf, cs); err != nil {
		t.Fatal(err)
	}
	fams := testutil.ParseText(t, buf.Bytes())
	for _, tc := range []struct {
		canary, target string
		canaryShare    float64
		status         float64
	}{
		{"waiting", "w", 50, 0}, // routes stay at maxWeight
		{"bg", "b", 100, 0},     // NopRouter: iterations > 0
		{"done", "d", 0, 30},    // a stale status weight is not traffic
	} {
		p := testutil.Value(t, fams, "flagger_canary_weight", map[string]string{"canary": tc.canary, "workload": tc.target + "-primary"})
		c := testutil.Value(t, fams, "flagger_canary_weight", map[string]string{"canary": tc.canary, "workload": tc.target})
		if c != tc.canaryShare || p != 100-tc.canaryShare {
			t.Errorf("%s: weights primary %v canary %v, want canary %v", tc.canary, p, c, tc.canaryShare)
		}
		if v := testutil.Value(t, fams, "flagger_canary_status_canary_weight", map[string]string{"canary": tc.canary}); v != tc.status {
			t.Errorf("%s: status weight %v, want %v", tc.canary, v, tc.status)
		}
	}
}
