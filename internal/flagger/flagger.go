// Package flagger holds the facts about Flagger itself that the exporter, the
// event adapter and the tests all need: the Canary resource's names and the
// phases of its status. It is the one Go source of them; the mixin's copy of
// the phase list is held to this one by a test (mixin/phases_test.go).
//
// It imports nothing, so the adapter can use it without linking client-go.
package flagger

// The Canary resource, as Flagger's CRD declares it.
const (
	Group    = "flagger.app"
	Version  = "v1beta1"
	Resource = "canaries"
	Kind     = "Canary"
)

// Phase is a Canary's status.phase. PhaseUnknown stands for the empty phase
// (no status yet) and for any value Flagger does not define.
type Phase uint8

// Flagger's phases in the order Flagger declares them
// (pkg/apis/flagger/v1beta1/status.go), then Unknown.
const (
	PhaseInitializing Phase = iota
	PhaseInitialized
	PhaseWaiting
	PhaseProgressing
	PhaseWaitingPromotion
	PhasePromoting
	PhaseFinalising
	PhaseSucceeded
	PhaseFailed
	PhaseTerminating
	PhaseTerminated
	PhaseUnknown

	// NumPhases counts the phases, Unknown included.
	NumPhases = int(PhaseUnknown) + 1
)

// PhaseNames are the status.phase strings, indexed by Phase: case-sensitive,
// as Flagger writes them, with its British spelling of Finalising. Unknown
// is this project's name for the empty or an unrecognised phase.
var PhaseNames = [NumPhases]string{
	PhaseInitializing:     "Initializing",
	PhaseInitialized:      "Initialized",
	PhaseWaiting:          "Waiting",
	PhaseProgressing:      "Progressing",
	PhaseWaitingPromotion: "WaitingPromotion",
	PhasePromoting:        "Promoting",
	PhaseFinalising:       "Finalising",
	PhaseSucceeded:        "Succeeded",
	PhaseFailed:           "Failed",
	PhaseTerminating:      "Terminating",
	PhaseTerminated:       "Terminated",
	PhaseUnknown:          "Unknown",
}

func (p Phase) String() string {
	if int(p) >= NumPhases {
		return PhaseNames[PhaseUnknown]
	}
	return PhaseNames[p]
}

// ParsePhase maps a status.phase string to a Phase; "" and unrecognised
// values are Unknown (the second result is false for an unrecognised
// non-empty one).
func ParsePhase(s string) (Phase, bool) {
	for i, name := range PhaseNames[:PhaseUnknown] {
		if s == name {
			return Phase(i), true
		}
	}
	return PhaseUnknown, s == ""
}

// IsPhase reports whether s is one of Flagger's phases (not "", not Unknown).
func IsPhase(s string) bool {
	p, _ := ParsePhase(s)
	return p != PhaseUnknown
}
