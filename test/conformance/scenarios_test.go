package conformance_test

import (
	"sync"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// scenario is one of the scenarios: a Canary taken through Flagger's
// steps, with checkpoints at every settled step.
type scenario struct {
	name string
	doc  string // one line for docs/conformance.md
	run  func(r *run)

	mu   sync.Mutex
	rows []row
}

func (s *scenario) add(r row) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, r)
}

// Reasons for the intended differences, written once.
const (
	whyNoWeightYet = "Flagger sets weights only when it advances a canary (none since it started); the exporter derives them from the Canary at once"
	whyDeleted     = "Flagger keeps a deleted canary's series until it restarts; the exporter drops them with the object"
)

var noWeightYet = map[string]differ{
	mWeightPrimary: {absent, "100", whyNoWeightYet},
	mWeightCanary:  {absent, "0", whyNoWeightYet},
}

// deadlineAlert must never fire on a canary that Flagger advances normally.
const deadlineAlert = "FlaggerCanaryProgressDeadlineExceeded"

// nginx is the provider of the weighted scenarios: plain Ingress objects,
// no mesh. The global provider, kubernetes, is blue/green only.
const nginx = "nginx"

var scenarios = []*scenario{
	{name: "initialisation", doc: "a new blue/green Canary on the global provider (kubernetes), interval 5s and threshold 0 (Flagger's defaults apply)",
		run: func(r *run) {
			r.create(stack.CanarySpec{Interval: "5s", Threshold: 0, Iterations: 2})
			r.settle("Initialized", noWeightYet)
			r.labels("Initialized")
			r.fact("Initialized", "flagger_canary_analysis_threshold", "1", "GetAnalysisThreshold: threshold <= 0 means 1")
			r.fact("Initialized", "flagger_canary_analysis_interval_seconds", "10", "GetAnalysisInterval: below 10s means 10s")
		}},
	{name: "promoted", doc: "nginx, stepWeight 25 up to maxWeight 50, analysis webhook passing, promoted",
		run: func(r *run) {
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 25, MaxWeight: 50, Deadline: 5, Hooks: []string{"rollout"}})
			r.revision(2)
			r.reach("Succeeded")
			r.fact("Succeeded", "flagger_canary_analysis_max_weight", "50", "maxWeight")
			r.alerts("Succeeded (interval 10s, progressDeadlineSeconds 5)", nil, []string{deadlineAlert, "FlaggerCanaryRolledBack"})
		}},
	{name: "rollback", doc: "nginx, stepWeight 20, threshold 3, the analysis webhook failing: rolled back",
		run: func(r *run) {
			r.hook("rollout", false)
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 3, StepWeight: 20, MaxWeight: 60, Hooks: []string{"rollout"}})
			r.revision(2)
			r.wait("a failed check", func(s status) bool { return s.FailedChecks >= 1 })
			r.settle("Progressing, checks failing", nil)
			r.failed("rolled back", []string{"FlaggerCanaryRolledBack", "canary_rollback"},
				[]string{"FlaggerCanaryPromotionFailed", "FlaggerCanaryRolledBackBelowThreshold"})
		}},
	{name: "confirm-rollout", doc: "confirm-rollout gate closed (Waiting), then opened and promoted",
		run: func(r *run) {
			r.hook("confirm-rollout", false)
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 50, MaxWeight: 50, Hooks: []string{"confirm-rollout"}})
			r.revision(2)
			r.reach("Waiting")
			r.alerts("Waiting", []string{"FlaggerCanaryWaiting"}, []string{"FlaggerCanaryNewRevision"})
			r.hook("confirm-rollout", true)
			r.reach("Succeeded")
		}},
	{name: "confirm-traffic-increase", doc: "stepWeights [10, 40] behind a confirm-traffic-increase gate, held at 0 and at 10, then promoted",
		run: func(r *run) {
			r.hook("confirm-traffic-increase", false)
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeights: []int64{10, 40}, Deadline: 15,
				Hooks: []string{"confirm-traffic-increase"}})
			r.fact("Initialized", "flagger_canary_analysis_max_weight", "40", "MaxWeight: the last of stepWeights")
			r.revision(2)
			r.wait("the first analysis run", func(s status) bool {
				return s.Phase == "Progressing" && len(r.f.Hooks.Calls(r.hookPath("confirm-traffic-increase"))) > 0
			})
			r.settle("Progressing at 0, gate closed", nil)
			r.hook("confirm-traffic-increase", true)
			r.wait("weight 10", func(s status) bool { return s.CanaryWeight == 10 })
			r.hook("confirm-traffic-increase", false)
			r.settle("Progressing at 10, gate closed", nil)
			// Held past the deadline: the canary waits for approval, it is not stuck.
			time.Sleep(25 * time.Second)
			r.alerts("Progressing at 10, gate closed 25s (progressDeadlineSeconds 15)", nil, []string{deadlineAlert})
			r.hook("confirm-traffic-increase", true)
			r.reach("Succeeded")
		}},
	{name: "confirm-promotion", doc: "confirm-promotion gate closed at maxWeight 50 (WaitingPromotion), approved, Promoting held by a primary still rolling out",
		run: func(r *run) {
			r.hook("confirm-promotion", false)
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 50, MaxWeight: 50, Hooks: []string{"confirm-promotion"}})
			r.revision(2)
			r.reach("WaitingPromotion")
			r.hook("confirm-promotion", true)
			r.waitPhase("Promoting")
			r.f.Deployments.Set(r.t, r.ns, primary, harness.RolloutPending)
			r.settle("Promoting (primary rolling out)", nil)
			r.f.Deployments.Set(r.t, r.ns, primary, harness.Ready)
			r.reach("Succeeded")
		}},
	{name: "blue-green", doc: "kubernetes provider, 2 iterations, confirm-promotion gate, promoted",
		run: func(r *run) {
			r.gated("confirm-promotion", stack.CanarySpec{Interval: "10s", Threshold: 2, Iterations: 2, Hooks: []string{"confirm-promotion"}}, "WaitingPromotion")
		}},
	{name: "ab-testing", doc: "nginx, header match, 2 iterations, confirm-promotion gate, promoted",
		run: func(r *run) {
			r.gated("confirm-promotion", stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, Iterations: 2, Match: true, Hooks: []string{"confirm-promotion"}}, "WaitingPromotion")
		}},
	{name: "skip-analysis", doc: "nginx, skipAnalysis: promoted without analysis",
		run: func(r *run) {
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 50, MaxWeight: 50, SkipAnalysis: true})
			r.revision(2)
			r.reach("Succeeded")
		}},
	{name: "manual-rollback", doc: "nginx, the rollback webhook answers yes mid-analysis",
		run: func(r *run) {
			r.hook("rollback", false)
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 20, MaxWeight: 80, Hooks: []string{"rollback"}})
			r.revision(2)
			r.wait("weight 20", func(s status) bool { return s.CanaryWeight >= 20 })
			r.hook("rollback", true)
			r.failed("manual rollback", []string{"FlaggerCanaryRolledBack", "FlaggerCanaryRolledBackBelowThreshold"},
				[]string{"FlaggerCanaryPromotionFailed"})
		}},
	{name: "promotion-failed", doc: "nginx, the primary exceeds its progress deadline while Promoting: Flagger fails the promotion and keeps traffic on the canary",
		run: func(r *run) {
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 50, MaxWeight: 50})
			r.revision(2)
			r.waitPhase("Promoting")
			r.f.Deployments.Set(r.t, r.ns, primary, harness.DeadlineExceeded)
			r.failed("promotion failed", []string{"FlaggerCanaryPromotionFailed"},
				[]string{"FlaggerCanaryRolledBack", "FlaggerCanaryRolledBackBelowThreshold", "FlaggerCanaryFailed"})
		}},
	{name: "revision-changed", doc: "nginx, a new revision while held at weight 20: Flagger restarts the analysis",
		run: func(r *run) {
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 20, MaxWeight: 40, Hooks: []string{"confirm-traffic-increase"}})
			r.revision(2)
			r.wait("weight 20", func(s status) bool { return s.CanaryWeight == 20 })
			r.hook("confirm-traffic-increase", false)
			r.settle("Progressing at 20, gate closed", nil)
			r.revision(3)
			r.wait("the restart", func(s status) bool { return s.Phase == "Progressing" && s.CanaryWeight == 0 })
			r.settle("Progressing, analysis restarted", nil)
			r.hook("confirm-traffic-increase", true)
			r.reach("Succeeded")
		}},
	{name: "deletion", doc: "a promoted canary deleted",
		run: func(r *run) {
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 50, MaxWeight: 50, SkipAnalysis: true})
			r.revision(2)
			r.reach("Succeeded")
			r.notifications()
			r.deleteCanary()
			r.settle("deleted", map[string]differ{
				mStatus:        {"1", absent, whyDeleted},
				mWeightPrimary: {"100", absent, whyDeleted},
				mWeightCanary:  {"0", absent, whyDeleted},
				mTotal:         {"1", absent, "Flagger stops updating a namespace's total when its last canary goes; the exporter drops the series"},
			})
		}},
	{name: "suspend", doc: "nginx, suspended at weight 20 (Flagger stops), resumed and promoted",
		run: func(r *run) {
			r.create(stack.CanarySpec{Provider: nginx, Interval: "10s", Threshold: 2, StepWeight: 20, MaxWeight: 40})
			r.revision(2)
			r.wait("weight 20", func(s status) bool { return s.CanaryWeight == 20 })
			r.patchSpec(`{"suspend":true}`)
			r.settle("Progressing at 20, suspended", nil)
			r.fact("Progressing at 20, suspended", "flagger_canary_suspended", "1", "spec.suspend: Flagger skips every analysis run")
			held := r.status()
			time.Sleep(2 * stepInterval)
			if now := r.status(); now != held {
				r.t.Fatalf("a suspended canary moved: %+v, then %+v", held, now)
			}
			r.patchSpec(`{"suspend":false}`)
			r.reach("Succeeded")
		}},
}
