package flagger

import "testing"

func TestPhaseNamesRoundTrip(t *testing.T) {
	for i, name := range PhaseNames {
		p := Phase(i)
		if p.String() != name {
			t.Errorf("Phase(%d).String() = %q, want %q", i, p.String(), name)
		}
		got, ok := ParsePhase(name)
		switch {
		case p == PhaseUnknown:
			if got != PhaseUnknown || ok || IsPhase(name) {
				t.Errorf("ParsePhase(%q) = %v, %v: Unknown is not a status.phase Flagger writes", name, got, ok)
			}
		case got != p || !ok || !IsPhase(name):
			t.Errorf("ParsePhase(%q) = %v, %v, want %v, true", name, got, ok, p)
		}
	}
}

func TestParsePhaseEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		in    string
		known bool
	}{{"", true}, {"progressing", false}, {"Finalizing", false}, {"Unknown", false}} {
		p, ok := ParsePhase(tc.in)
		if p != PhaseUnknown || ok != tc.known {
			t.Errorf("ParsePhase(%q) = %v, %v, want Unknown, %v", tc.in, p, ok, tc.known)
		}
	}
	if Phase(200).String() != "Unknown" {
		t.Errorf("an out-of-range Phase must print as Unknown")
	}
	if NumPhases != 12 || PhaseFailed != 8 || PhaseProgressing != 3 {
		t.Errorf("the phase order changed: Flagger declares 11 phases, Progressing 4th and Failed 9th")
	}
}
