package canary

import (
	"math"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// This file derives the traffic weights Flagger's router reports, from the
// Canary alone. References are to Flagger v1.44.0: pkg/controller/scheduler.go
// (advanceCanary, runCanary, runAB, runBlueGreen, runPromotionTrafficShift,
// rollback, handleFailedPromotion, maxWeight, nextStepWeight),
// pkg/controller/scheduler_hooks.go (runConfirmPromotionHooks),
// pkg/canary/status.go (setStatusPhase, syncCanaryStatus), pkg/router/nop.go
// and pkg/router/ingress.go.
//
// Flagger's flagger_canary_weight is not status.canaryWeight. Each analysis
// tick of a canary that advances calls meshRouter.GetRoutes and records what
// it returns (recorder.SetWeight), and every SetRoutes that changes traffic is
// followed by a SetWeight of the same weights. So once a step has settled the
// gauge holds the routes. The routes and status.canaryWeight part ways:
//
//   - setStatusPhase zeroes status.canaryWeight on entering WaitingPromotion
//     (it does so for every phase but Progressing, Waiting and Promoting), and
//     no route changes: the progressive canary's routes stay at its last step.
//   - blue/green and A/B testing never write status.canaryWeight (until a
//     stepped promotion does): they route all traffic with SetRoutes(0, 100).
//   - the kubernetes provider has no routes. router.NopRouter's GetRoutes
//     reports canary 100 when status.iterations > 0, else 0.

// RouteWeight is the canary's share of traffic, 0..100, that Flagger's router
// reports for the Canary's phase, strategy and provider: the canary series of
// Flagger's flagger_canary_weight. The primary's share is TotalWeight minus
// it. It assumes Flagger drove the status (see the comments inside for each
// case) and is cheap: it is computed once per object change.
func (c *Facts) RouteWeight() float64 {
	return clampWeight(c.routeWeight())
}

func (c *Facts) routeWeight() float64 {
	switch {
	case c.Phase == flagger.PhaseFailed:
		// rollback: SetRoutes(100, 0), then SyncStatus{Failed, CanaryWeight: 0}.
		// handleFailedPromotion (a primary that fails while Promoting or
		// Finalising): SetRoutes(0, 100), then SyncStatus{Failed,
		// CanaryWeight: 100}. Later ticks of a Failed canary only re-sync its
		// status, so status.canaryWeight is the routes, with every provider
		// (for kubernetes, the SetWeight(0, 100) of handleFailedPromotion
		// stays recorded: shouldAdvance stops a Failed canary before
		// GetRoutes until a new revision arrives).
		return c.CanaryWeight
	case c.Provider == KubernetesProvider:
		// NopRouter.GetRoutes, in every other phase. advanceCanary forces
		// blue/green (iterations 10 if < 1) but NopRouter only looks at the
		// status: iterations > 0 from the first analysis run until
		// setStatusPhase zeroes them (Finalising, Succeeded, …); 9 in
		// WaitingPromotion (iterations - 1).
		if c.Iterations > 0 {
			return TotalWeight
		}
		return 0
	}
	switch c.Phase {
	case flagger.PhaseWaiting:
		// Only checkCanaryStatus enters Waiting (runConfirmRolloutHooks), from
		// Initialized, Succeeded or Failed, whose routes are what their
		// status.canaryWeight says (0, or 100 after handleFailedPromotion);
		// setStatusPhase(Waiting) keeps it and nothing routes while waiting.
		return c.CanaryWeight
	case flagger.PhaseProgressing, flagger.PhaseWaitingPromotion, flagger.PhasePromoting:
	default:
		// Initializing, Initialized, Finalising, Succeeded, Terminating,
		// Terminated, empty and unknown: all traffic on the primary
		// (runPromotionTrafficShift routes it back before Finalising;
		// shouldSkipAnalysis before Succeeded).
		return 0
	}
	// Promoting, every strategy: runPromotionTrafficShift either routes all
	// traffic to the primary and moves to Finalising in one tick, or (with
	// stepWeightPromotion) moves the canary weight down a step, recording it,
	// and writes it with SetStatusWeight. So a Promoting status.canaryWeight
	// > 0 is the routes; 0 means none of those steps has run yet and the
	// routes are where the analysis left them.
	promoting := c.Phase == flagger.PhasePromoting && c.CanaryWeight > 0
	switch c.Strategy {
	case StrategyABTesting:
		// runAB: SetRoutes(0, 100), then SetStatusIterations(+1), while
		// iterations < analysis.iterations. WaitingPromotion (entered at
		// iterations == analysis.iterations, all runs done) and Promoting
		// keep the routes; setStatusPhase sets iterations to
		// analysis.iterations - 1 in WaitingPromotion, possibly 0, so the
		// phase decides, not iterations. (IngressRouter.GetRoutes reports
		// 100 for the canary-by-header/cookie annotations likewise.)
		switch {
		case promoting:
			return c.CanaryWeight
		case c.Phase == flagger.PhaseProgressing:
			if c.Iterations > 0 {
				return TotalWeight
			}
			return 0
		}
		return TotalWeight
	case StrategyBlueGreen:
		// runBlueGreen: iterations count up with the primary keeping all
		// traffic (mirroring, if any, routes nothing to the canary); at
		// iterations == analysis.iterations, once the confirm-promotion gate
		// is open, "Routing all traffic to canary": SetRoutes(0, 100) and
		// iterations + 1; the next tick promotes. A closed gate holds the
		// canary in WaitingPromotion at iterations analysis.iterations - 1
		// or analysis.iterations, routes untouched, until it opens and the
		// same SetRoutes(0, 100) runs (still in WaitingPromotion).
		switch {
		case promoting:
			return c.CanaryWeight
		case c.Phase == flagger.PhasePromoting:
			return TotalWeight
		case c.Iterations > c.AnalysisIterations:
			return TotalWeight
		}
		return 0
	}
	// Progressive canary. runCanary: SetRoutes(step), SetStatusWeight(step)
	// while the routed weight < maxWeight, so in Progressing
	// status.canaryWeight is the routes (0 for a mirrored step, and 0 after
	// a restart on a new revision, which routes all back to the primary).
	// From the step at or above maxWeight it promotes or, behind a closed
	// confirm-promotion gate, sets WaitingPromotion, which zeroes
	// status.canaryWeight but not the routes; Promoting entered from there
	// also has status.canaryWeight 0.
	switch {
	case c.Phase == flagger.PhaseProgressing, promoting:
		return c.CanaryWeight
	}
	return c.PromotionWeight
}

func clampWeight(w float64) float64 {
	// NaN (never produced by Decode) is treated as 0, like every other
	// unreadable number, rather than written as a weight.
	if !(w > 0) {
		return 0
	}
	return math.Min(TotalWeight, w)
}

// maxWeight is the controller's maxWeight: the last of stepWeights capped at
// totalWeight, else maxWeight when > 0, else totalWeight.
func maxWeight(stepWeights []float64, maxWeight float64) float64 {
	if n := len(stepWeights); n > 0 {
		return math.Min(TotalWeight, stepWeights[n-1])
	}
	if maxWeight > 0 {
		return maxWeight
	}
	return TotalWeight
}

// nextStepWeight is the controller's nextStepWeight: the weight runCanary adds
// to canaryWeight. stepWeight > 0 (or no stepWeights) wins; otherwise the
// step to the stepWeights entry after the one equal to canaryWeight (the
// first entry from 0), bounded by what is left to totalWeight. index finds
// the first i < len(stepWeights)-1 with stepWeights[i] == canaryWeight.
func nextStepWeight(stepWeight float64, stepWeights []float64, canaryWeight float64, index func(float64) int) float64 {
	if stepWeight > 0 || len(stepWeights) == 0 {
		return stepWeight // 0 when unset: Flagger never steps
	}
	maxStep := TotalWeight - canaryWeight
	if maxStep == 0 {
		return 1
	}
	if canaryWeight == 0 {
		return math.Min(maxStep, stepWeights[0])
	}
	if i := index(canaryWeight); i >= 0 {
		return math.Min(maxStep, stepWeights[i+1]-canaryWeight)
	}
	return maxStep
}

// maxSteps bounds promotionWeight's walk. Flagger's weights are integers, so
// a walk that advances at all reaches 100 in at most 100 steps; the bound only
// matters for fractional weights no real Canary has.
const maxSteps = 256

// promotionWeight walks runCanary's steps from 0 as Flagger takes them
// (advanceCanary runs it only while nextStepWeight > 0; each step adds it and
// caps at totalWeight) until the weight reaches maxWeight, and returns that
// weight: where a progressive canary's routes stay while it waits for, and
// enters, promotion. It is maxWeight when the steps land on it (stepWeight
// 10, maxWeight 50; stepWeights ending at maxWeight) and the step past it
// otherwise (stepWeight 15, maxWeight 50: 60). A canary whose steps stall
// below maxWeight never gets there; the walk returns where it stalls.
func promotionWeight(stepWeight float64, stepWeights []float64, maxW float64) float64 {
	index := indexer(stepWeights)
	w := 0.0
	for i := 0; i < maxSteps && w < maxW; i++ {
		step := nextStepWeight(stepWeight, stepWeights, w, index)
		if !(step > 0) {
			break
		}
		w = math.Min(TotalWeight, w+step)
	}
	return w
}

// indexer returns the lookup nextStepWeight needs: a linear scan, as Flagger
// does, for a short list, and a map for a long one, so that a hostile Facts
// with a huge stepWeights list cannot make decoding quadratic.
func indexer(stepWeights []float64) func(float64) int {
	head := stepWeights
	if len(head) > 0 {
		head = head[:len(head)-1]
	}
	if len(head) <= 16 {
		return func(w float64) int {
			for i, v := range head {
				if v == w {
					return i
				}
			}
			return -1
		}
	}
	first := make(map[float64]int, len(head))
	for i := len(head) - 1; i >= 0; i-- {
		first[head[i]] = i
	}
	return func(w float64) int {
		if i, ok := first[w]; ok {
			return i
		}
		return -1
	}
}
