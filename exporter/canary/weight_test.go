package canary

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// rw builds the facts RouteWeight reads.
type rw struct {
	strategy, provider string
	phase              flagger.Phase
	canaryWeight       float64 // status.canaryWeight
	iterations         float64 // status.iterations
	analysisIterations float64
	promotionWeight    float64
}

func (r rw) canary() Facts {
	return Facts{
		Strategy: r.strategy, Provider: r.provider, Phase: r.phase,
		CanaryWeight: r.canaryWeight, Iterations: r.iterations,
		AnalysisIterations: r.analysisIterations, PromotionWeight: r.promotionWeight,
	}
}

// TestRouteWeight: one row per Flagger v1.44.0 code path that leaves the
// routes (and so the recorded flagger_canary_weight) where the row says.
func TestRouteWeight(t *testing.T) {
	const (
		cn   = StrategyCanary
		bg   = StrategyBlueGreen
		ab   = StrategyABTesting
		ngx  = "nginx"
		k8s  = KubernetesProvider
		istd = "istio"
	)
	cases := []struct {
		path string // the Flagger code path mirrored
		in   rw
		want float64
	}{
		// Failed, every strategy and provider: status.canaryWeight.
		{"rollback: SetRoutes(100, 0); SyncStatus{Failed, CanaryWeight: 0}", rw{cn, ngx, flagger.PhaseFailed, 0, 0, 0, 50}, 0},
		{"handleFailedPromotion: SetRoutes(0, 100); SyncStatus{Failed, CanaryWeight: 100}", rw{cn, ngx, flagger.PhaseFailed, 100, 0, 0, 50}, 100},
		{"handleFailedPromotion after blue/green", rw{bg, istd, flagger.PhaseFailed, 100, 0, 2, 0}, 100},
		{"rollback of an A/B test", rw{ab, ngx, flagger.PhaseFailed, 0, 0, 2, 0}, 0},
		{"rollback, kubernetes: SetWeight(100, 0)", rw{bg, k8s, flagger.PhaseFailed, 0, 0, 10, 0}, 0},
		{"handleFailedPromotion, kubernetes: SetWeight(0, 100) stays recorded", rw{bg, k8s, flagger.PhaseFailed, 100, 0, 10, 0}, 100},

		// kubernetes provider: NopRouter.GetRoutes, iterations > 0 → 100.
		{"NopRouter.GetRoutes: Progressing before the first run, iterations 0", rw{bg, k8s, flagger.PhaseProgressing, 0, 0, 10, 0}, 0},
		{"NopRouter.GetRoutes: runBlueGreen SetStatusIterations(1)", rw{bg, k8s, flagger.PhaseProgressing, 0, 1, 10, 0}, 100},
		{"NopRouter.GetRoutes: WaitingPromotion, setStatusPhase iterations-1", rw{bg, k8s, flagger.PhaseWaitingPromotion, 0, 9, 10, 0}, 100},
		{"NopRouter.GetRoutes: WaitingPromotion with iterations 1-1 = 0", rw{bg, k8s, flagger.PhaseWaitingPromotion, 0, 0, 1, 0}, 0},
		{"NopRouter.GetRoutes: Promoting, iterations analysis.iterations+1", rw{bg, k8s, flagger.PhasePromoting, 0, 11, 10, 0}, 100},
		{"NopRouter.GetRoutes: Finalising, setStatusPhase zeroes iterations", rw{bg, k8s, flagger.PhaseFinalising, 0, 0, 10, 0}, 0},
		{"NopRouter.GetRoutes: Succeeded", rw{bg, k8s, flagger.PhaseSucceeded, 0, 0, 10, 0}, 0},
		{"NopRouter.GetRoutes: Waiting after handleFailedPromotion ignores canaryWeight 100", rw{bg, k8s, flagger.PhaseWaiting, 100, 0, 10, 0}, 0},
		{"NopRouter.GetRoutes: Initialized", rw{bg, k8s, flagger.PhaseInitialized, 0, 0, 10, 0}, 0},

		// A/B testing (nginx: IngressRouter.GetRoutes 100 with canary-by-header).
		{"runAB not run yet (or restarted on a new revision): iterations 0", rw{ab, ngx, flagger.PhaseProgressing, 0, 0, 2, 0}, 0},
		{"runAB: SetRoutes(0, 100), SetStatusIterations(1)", rw{ab, ngx, flagger.PhaseProgressing, 0, 1, 2, 0}, 100},
		{"runAB on istio: SetRoutes(0, 100)", rw{ab, istd, flagger.PhaseProgressing, 0, 2, 2, 0}, 100},
		{"runConfirmPromotionHooks: WaitingPromotion, iterations analysis.iterations-1", rw{ab, ngx, flagger.PhaseWaitingPromotion, 0, 1, 2, 0}, 100},
		{"runConfirmPromotionHooks: WaitingPromotion with analysis.iterations 1, iterations 0", rw{ab, ngx, flagger.PhaseWaitingPromotion, 0, 0, 1, 0}, 100},
		{"runAB promoted: Promoting keeps the routes", rw{ab, ngx, flagger.PhasePromoting, 0, 2, 2, 0}, 100},
		{"runPromotionTrafficShift with stepWeightPromotion: SetStatusWeight(70)", rw{ab, istd, flagger.PhasePromoting, 70, 2, 2, 0}, 70},
		{"A/B Finalising: runPromotionTrafficShift routed all to the primary", rw{ab, ngx, flagger.PhaseFinalising, 0, 0, 2, 0}, 0},
		{"A/B Succeeded", rw{ab, ngx, flagger.PhaseSucceeded, 0, 0, 2, 0}, 0},
		{"A/B Waiting (runConfirmRolloutHooks)", rw{ab, ngx, flagger.PhaseWaiting, 0, 0, 2, 0}, 0},

		// Blue/green on a router with routes.
		{"runBlueGreen: Progressing, no run yet", rw{bg, ngx, flagger.PhaseProgressing, 0, 0, 2, 0}, 0},
		{"runBlueGreen: SetStatusIterations(2), primary keeps all traffic", rw{bg, ngx, flagger.PhaseProgressing, 0, 2, 2, 0}, 0},
		{"runBlueGreen: \"Routing all traffic to canary\", SetRoutes(0, 100), iterations+1", rw{bg, ngx, flagger.PhaseProgressing, 0, 3, 2, 0}, 100},
		{"runBlueGreen with mirroring: SetRoutes(100, 0, mirrored)", rw{bg, istd, flagger.PhaseProgressing, 0, 1, 2, 0}, 0},
		{"runConfirmPromotionHooks: WaitingPromotion, iterations analysis.iterations-1", rw{bg, ngx, flagger.PhaseWaitingPromotion, 0, 1, 2, 0}, 0},
		{"runBlueGreen in WaitingPromotion: SetStatusIterations(analysis.iterations)", rw{bg, ngx, flagger.PhaseWaitingPromotion, 0, 2, 2, 0}, 0},
		{"runBlueGreen, gate opened in WaitingPromotion: SetRoutes(0, 100), iterations+1", rw{bg, ngx, flagger.PhaseWaitingPromotion, 0, 3, 2, 0}, 100},
		{"runBlueGreen promoted: Promoting after SetRoutes(0, 100)", rw{bg, ngx, flagger.PhasePromoting, 0, 3, 2, 0}, 100},
		{"runPromotionTrafficShift with stepWeightPromotion: SetStatusWeight(40)", rw{bg, istd, flagger.PhasePromoting, 40, 3, 2, 0}, 40},
		{"blue/green Finalising", rw{bg, ngx, flagger.PhaseFinalising, 0, 0, 2, 0}, 0},
		{"blue/green Waiting after handleFailedPromotion: routes still 100", rw{bg, ngx, flagger.PhaseWaiting, 100, 0, 2, 0}, 100},

		// Progressive canary.
		{"advanceCanary first run (pre-rollout hooks): canaryWeight 0", rw{cn, ngx, flagger.PhaseProgressing, 0, 0, 0, 50}, 0},
		{"runCanary: SetRoutes(75, 25), SetStatusWeight(25)", rw{cn, ngx, flagger.PhaseProgressing, 25, 0, 0, 50}, 25},
		{"runCanary mirrored step: SetRoutes(100, 0, true), SetStatusWeight(0)", rw{cn, istd, flagger.PhaseProgressing, 0, 0, 0, 50}, 0},
		{"hasCanaryRevisionChanged: SetRoutes(100, 0), SyncStatus canaryWeight 0", rw{cn, ngx, flagger.PhaseProgressing, 0, 0, 0, 50}, 0},
		{"runConfirmPromotionHooks: setStatusPhase(WaitingPromotion) zeroes canaryWeight, routes at maxWeight", rw{cn, ngx, flagger.PhaseWaitingPromotion, 0, -1, 0, 50}, 50},
		{"WaitingPromotion after overshooting maxWeight (stepWeight 15, maxWeight 50)", rw{cn, ngx, flagger.PhaseWaitingPromotion, 0, -1, 0, 60}, 60},
		{"runCanary promoted from Progressing: setStatusPhase(Promoting) keeps canaryWeight", rw{cn, ngx, flagger.PhasePromoting, 50, 0, 0, 50}, 50},
		{"runCanary promoted from WaitingPromotion: canaryWeight 0, routes at maxWeight", rw{cn, ngx, flagger.PhasePromoting, 0, -1, 0, 50}, 50},
		{"runPromotionTrafficShift with stepWeightPromotion: SetStatusWeight(30)", rw{cn, ngx, flagger.PhasePromoting, 30, 0, 0, 50}, 30},
		{"runConfirmRolloutHooks: Waiting from Succeeded", rw{cn, ngx, flagger.PhaseWaiting, 0, 0, 0, 50}, 0},
		{"runConfirmRolloutHooks: Waiting from Failed after handleFailedPromotion", rw{cn, ngx, flagger.PhaseWaiting, 100, 0, 0, 50}, 100},
		{"runPromotionTrafficShift: SetRoutes(100, 0), Finalising", rw{cn, ngx, flagger.PhaseFinalising, 50, 0, 0, 50}, 0},
		{"Finalising tick: Succeeded", rw{cn, ngx, flagger.PhaseSucceeded, 30, 0, 0, 50}, 0},
		{"shouldSkipAnalysis: SetRoutes(100, 0), Succeeded", rw{cn, istd, flagger.PhaseSucceeded, 0, 0, 0, 50}, 0},

		// Phases without traffic on the canary, whatever the status says.
		{"Initializing", rw{cn, ngx, flagger.PhaseInitializing, 30, 1, 0, 50}, 0},
		{"setPhaseInitialized: Initialized", rw{cn, ngx, flagger.PhaseInitialized, 30, 1, 0, 50}, 0},
		{"Terminating", rw{ab, ngx, flagger.PhaseTerminating, 30, 1, 2, 0}, 0},
		{"Terminated", rw{bg, ngx, flagger.PhaseTerminated, 30, 3, 2, 0}, 0},
		{"empty or unknown phase", rw{cn, ngx, flagger.PhaseUnknown, 30, 1, 0, 50}, 0},

		// The weight is a share of totalWeight.
		{"clamped: canaryWeight above 100", rw{cn, ngx, flagger.PhaseProgressing, 250, 0, 0, 50}, 100},
		{"clamped: canaryWeight negative", rw{cn, ngx, flagger.PhaseProgressing, -5, 0, 0, 50}, 0},
		{"clamped: Failed canaryWeight above 100", rw{cn, ngx, flagger.PhaseFailed, 101, 0, 0, 50}, 100},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			c := tc.in.canary()
			if got := c.RouteWeight(); got != tc.want {
				t.Errorf("%s %s %s canaryWeight=%v iterations=%v: got %v, want %v",
					tc.in.strategy, tc.in.provider, tc.in.phase, tc.in.canaryWeight, tc.in.iterations, got, tc.want)
			}
		})
	}
}

// TestRouteWeightFromObjects decodes whole objects: the provider and strategy
// Decode derives (global mesh provider, kubernetes' forced blue/green) are
// the ones RouteWeight uses.
func TestRouteWeightFromObjects(t *testing.T) {
	waiting := func() map[string]any {
		return set(set(base(), "WaitingPromotion", "status", "phase"), int64(0), "status", "canaryWeight")
	}
	// base: stepWeight 5, maxWeight 50.
	if c, _, _ := Decode(waiting(), Options{}); c.RouteWeight() != 50 {
		t.Errorf("progressive WaitingPromotion: %v, want maxWeight 50", c.RouteWeight())
	}
	overshoot := set(waiting(), int64(15), "spec", "analysis", "stepWeight")
	if c, _, _ := Decode(overshoot, Options{}); c.RouteWeight() != 60 {
		t.Errorf("stepWeight 15 to maxWeight 50: %v, want the last step 60", c.RouteWeight())
	}
	// No spec.provider on a kubernetes Flagger: blue/green, NopRouter.
	k8s := set(set(base(), nil, "spec", "provider"), int64(1), "status", "iterations")
	if c, _, _ := Decode(k8s, Options{MeshProvider: KubernetesProvider}); c.RouteWeight() != 100 {
		t.Errorf("kubernetes Progressing, iterations 1: %v, want 100", c.RouteWeight())
	}
	if c, _, _ := Decode(k8s, Options{}); c.RouteWeight() != 15 {
		t.Errorf("istio Progressing: %v, want status.canaryWeight 15", c.RouteWeight())
	}
}
