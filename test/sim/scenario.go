package sim

import (
	"fmt"
	"slices"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// Flagger's phases as status.phase strings, from the one Go source of them.
var (
	Initializing     = flagger.PhaseInitializing.String()
	Initialized      = flagger.PhaseInitialized.String()
	Waiting          = flagger.PhaseWaiting.String()
	Progressing      = flagger.PhaseProgressing.String()
	WaitingPromotion = flagger.PhaseWaitingPromotion.String()
	Promoting        = flagger.PhasePromoting.String()
	Finalising       = flagger.PhaseFinalising.String()
	Succeeded        = flagger.PhaseSucceeded.String()
	Failed           = flagger.PhaseFailed.String()
)

// StepWeight is the canary weight one analysis step adds in the scenarios
// below; it matches spec.analysis.stepWeight of harness.NewCanary and of
// Flagger's examples.
const StepWeight = 10

// Step is one status write Flagger makes. Weights and counts are absolute;
// Canary.Apply adds what Flagger derives itself (resets, checksums,
// timestamps, the Promoted condition).
type Step struct {
	// Name says what Flagger did, in its own words where it has some.
	Name         string
	Phase        string
	CanaryWeight int64
	Iterations   int64
	FailedChecks int64
	// NewRevision: Flagger saw a changed spec and writes its new checksum to
	// lastAppliedSpec (on Initializing, and on Progressing after a change).
	NewRevision bool
}

// Scenario is a rollout as data: steps applied in order, one at a time.
type Scenario struct {
	Name string
	// From lists the phases the canary may be in when the scenario starts;
	// empty means any. "" is a canary Flagger has not written yet.
	From  []string
	Steps []Step
}

// CanStartFrom reports whether the scenario may start from phase, so a test
// that strings scenarios together wrongly fails at once, not in an assert.
func (s Scenario) CanStartFrom(phase string) error {
	if len(s.From) == 0 || slices.Contains(s.From, phase) {
		return nil
	}
	return fmt.Errorf("sim: scenario %s starts from %q, canary is in phase %q", s.Name, s.From, phase)
}

// Phases lists the phase of every step, for tests and logs.
func (s Scenario) Phases() []string {
	out := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		out[i] = st.Phase
	}
	return out
}

// finished are the phases after which Flagger starts a new revision.
var finished = []string{Initialized, Succeeded, Failed}

// Initialize is what Flagger does with a new Canary: record the spec's
// checksum (Initializing), create the primary and route all traffic to it
// (Initialized, which also promotes the spec).
func Initialize() Scenario {
	return Scenario{Name: "Initialize", From: []string{""}, Steps: []Step{
		{Name: "New deployment detected, starting initialization", Phase: Initializing, NewRevision: true},
		{Name: "Initialization done", Phase: Initialized},
	}}
}

// newRevision is the first write of every rollout: "New revision detected!
// Scaling up", analysis state reset to zero.
func newRevision() Step {
	return Step{Name: "New revision detected", Phase: Progressing, NewRevision: true}
}

// advance is "Advance <canary> canary weight <w>".
func advance(steps int) []Step {
	if steps < 1 || steps*StepWeight > 100 {
		panic(fmt.Sprintf("sim: %d analysis steps of weight %d do not fit in 0..100", steps, StepWeight))
	}
	out := make([]Step, steps)
	for i := range out {
		w := int64((i + 1) * StepWeight)
		out[i] = Step{Name: fmt.Sprintf("Advance canary weight %d", w), Phase: Progressing, CanaryWeight: w}
	}
	return out
}

// promote is Flagger's promotion after the analysis passed and any
// confirm-promotion webhook approved: copy the canary spec to the primary
// (Promoting), route all traffic to the primary (Finalising), scale the
// canary down (Succeeded, which also promotes the spec).
func promote(weight int64) []Step {
	return []Step{
		{Name: "Copying template spec to primary", Phase: Promoting, CanaryWeight: weight},
		{Name: "Routing all traffic to primary", Phase: Finalising},
		{Name: "Promotion completed! Scaling down", Phase: Succeeded},
	}
}

// SuccessfulRollout is a new revision whose analysis passes in steps steps
// of StepWeight each, then is promoted.
func SuccessfulRollout(steps int) Scenario {
	s := append([]Step{newRevision()}, advance(steps)...)
	s = append(s, promote(int64(steps*StepWeight))...)
	return Scenario{Name: fmt.Sprintf("SuccessfulRollout(%d)", steps), From: finished, Steps: s}
}

// FailedRollout is a new revision whose checks fail from the first analysis
// step on: Flagger halts advancement, failed checks climb to threshold, and
// at the next interval it rolls back (Failed, failed checks reset to 0).
func FailedRollout(threshold int) Scenario {
	if threshold < 1 {
		panic("sim: threshold must be at least 1")
	}
	s := append([]Step{newRevision()}, advance(1)...)
	for i := 1; i <= threshold; i++ {
		s = append(s, Step{Name: fmt.Sprintf("Halt advancement, failed checks %d", i), Phase: Progressing, CanaryWeight: StepWeight, FailedChecks: int64(i)})
	}
	s = append(s, Step{Name: "Rolling back, failed checks threshold reached; Canary failed! Scaling down", Phase: Failed})
	return Scenario{Name: fmt.Sprintf("FailedRollout(%d)", threshold), From: finished, Steps: s}
}

// WaitForApproval is a new revision whose analysis passes in steps steps
// and then halts: the confirm-promotion webhook says no, so the canary stays
// in WaitingPromotion until Promote.
func WaitForApproval(steps int) Scenario {
	s := append([]Step{newRevision()}, advance(steps)...)
	s = append(s, Step{Name: "Halt advancement waiting for promotion approval", Phase: WaitingPromotion})
	return Scenario{Name: fmt.Sprintf("WaitForApproval(%d)", steps), From: finished, Steps: s}
}

// Promote continues WaitForApproval once the webhook approves. The weight
// is 0 because WaitingPromotion reset it.
func Promote() Scenario {
	return Scenario{Name: "Promote", From: []string{WaitingPromotion}, Steps: promote(0)}
}

// Recover is the fix after a rollback: a new revision that succeeds.
func Recover(steps int) Scenario {
	s := SuccessfulRollout(steps)
	s.Name, s.From = fmt.Sprintf("Recover(%d)", steps), []string{Failed}
	return s
}
