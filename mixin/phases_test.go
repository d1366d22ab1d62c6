package mixin_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// The mixin keeps its own copy of Flagger's phases (jsonnet cannot import Go):
// the phase-code recording rule and the dashboards' value mappings number
// them by position. Both copies must list the same phases in the same order,
// and every phase needs a dashboard colour.
func TestPhasesMatchGo(t *testing.T) {
	out := run(t, testutil.RepoRoot(t), nil, testutil.Tool(t, "jsonnet"), "-e",
		`local p = import 'mixin/lib/promql.libsonnet'; local g = import 'mixin/lib/grafana.libsonnet';
		 { phases: p.phases, colours: std.objectFields(g.phaseColors) }`)
	var got struct {
		Phases  []string `json:"phases"`
		Colours []string `json:"colours"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("jsonnet output %q: %v", out, err)
	}
	want := flagger.PhaseNames[:flagger.PhaseUnknown]
	if !slices.Equal(got.Phases, want) {
		t.Errorf("mixin/lib/promql.libsonnet phases = %q\ninternal/flagger PhaseNames = %q", got.Phases, want)
	}
	all := slices.Sorted(slices.Values(flagger.PhaseNames[:]))
	if !slices.Equal(got.Colours, all) {
		t.Errorf("mixin/lib/grafana.libsonnet phaseColors keys = %q, want one per phase and Unknown: %q", got.Colours, all)
	}
}
