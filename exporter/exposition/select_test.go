package exposition

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

func TestSelect(t *testing.T) {
	names := func(s Selection) []string {
		var out []string
		for _, f := range s {
			out = append(out, f.Name)
		}
		return out
	}
	for _, tc := range []struct {
		allow, deny []string
		want        []string // nil: every family
	}{
		{nil, nil, nil},
		{[]string{"flagger_canary_status", "flagger_canary_weight"}, nil, []string{"flagger_canary_status", "flagger_canary_weight"}},
		// Anchored: flagger_canary_status does not pick flagger_canary_status_phase.
		{[]string{"flagger_canary_status"}, nil, []string{"flagger_canary_status"}},
		{[]string{"flagger_canary_analysis_.*"}, nil, []string{"flagger_canary_analysis_threshold", "flagger_canary_analysis_iterations", "flagger_canary_analysis_max_weight", "flagger_canary_analysis_step_weight", "flagger_canary_analysis_interval_seconds", "flagger_canary_analysis_webhooks"}},
	} {
		s, err := Select(tc.allow, tc.deny)
		if err != nil {
			t.Fatalf("Select(%v, %v): %v", tc.allow, tc.deny, err)
		}
		got := names(s)
		if tc.want == nil {
			tc.want = names(All)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Select(%v, %v) = %v, want %v", tc.allow, tc.deny, got, tc.want)
		}
	}
	deny, err := Select(nil, []string{"flagger_canary_status_.*", "flagger_canary_created_timestamp_seconds"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range deny {
		if strings.HasPrefix(f.Name, "flagger_canary_status_") || f.Name == "flagger_canary_created_timestamp_seconds" {
			t.Errorf("denied family %s kept", f.Name)
		}
	}
	// Six status_* families (phase, promoted, failed_checks, iterations,
	// canary_weight, last_transition_timestamp_seconds) and created.
	if len(deny) != len(All)-7 {
		t.Errorf("denylist kept %d of %d families, want all but 7", len(deny), len(All))
	}
}

func TestSelectRefuses(t *testing.T) {
	for _, tc := range []struct {
		allow, deny []string
		want        string
	}{
		{[]string{"flagger_canary_status"}, []string{"flagger_canary_weight"}, "mutually exclusive"},
		{[]string{"flagger_canary_("}, nil, "--metric-allowlist"},
		{nil, []string{"flagger_canary_statsu"}, "matches no canary family"},
	} {
		if _, err := Select(tc.allow, tc.deny); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Select(%v, %v) = %v, want an error saying %q", tc.allow, tc.deny, err, tc.want)
		}
	}
}

// A selection writes only its families, each complete.
func TestSelectionWrites(t *testing.T) {
	cs := []*Canary{Prepare(facts("test", "a", "a", flagger.PhaseProgressing), [NumTransitionPhases]uint64{})}
	s, err := Select([]string{"flagger_canary_status|flagger_canary_info"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.Write(&b, cs); err != nil {
		t.Fatal(err)
	}
	fams := testutil.ParseText(t, b.Bytes())
	if len(fams) != 2 || fams["flagger_canary_status"] == nil || fams["flagger_canary_info"] == nil {
		t.Errorf("wrote %d families, want status and info", len(fams))
	}
	var all bytes.Buffer
	if err := Write(&all, cs); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(all.Bytes(), []byte("# TYPE ")); n != len(Families) {
		t.Errorf("Write wrote %d family headers, want all %d", n, len(Families))
	}
	if n := bytes.Count(b.Bytes(), []byte("# TYPE ")); n != 2 {
		t.Errorf("the selection wrote %d family headers, want 2", n)
	}
}
