package conformance_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// target is every scenario's workload; canaryName differs from it so that
// the tests see which label carries which name.
const (
	target     = "podinfo"
	canaryName = "app"
	// primary is the Deployment Flagger creates from the target.
	primary = target + "-primary"
)

// run is one scenario in its own namespace, with one Canary.
type run struct {
	t  *testing.T
	s  *stack.Stack
	f  *stack.Flagger
	ns string
	sc *scenario
	// notified: the scenario compared the notifications itself (before
	// deleting its canary, whose series, and pending notices, go with it).
	notified bool
}

func (r *run) hookPath(typ string) string { return stack.HookPath(r.ns, typ) }

// hook opens (pass) or closes a webhook of the canary.
func (r *run) hook(typ string, pass bool) { r.f.Hooks.Set(r.hookPath(typ), pass) }

// create makes the Canary, waits until Flagger initialised it and until
// Prometheus has sent the Initialized notice. A notice is derived from
// scraped state, so a phase must last a scrape and an evaluation to be
// announced; a scenario that starts its rollout at once would otherwise cut
// Initialized shorter than that.
func (r *run) create(spec stack.CanarySpec) {
	r.t.Helper()
	r.s.AddFlaggerCanary(r.t, r.ns, canaryName, target, spec)
	harness.Eventually(r.t, 30*time.Second, func() string {
		got, err := r.s.Query(fmt.Sprintf(`ALERTS{alertname="FlaggerCanaryInitialized", alertstate="firing", namespace=%q}`, r.ns))
		if err != nil {
			return err.Error()
		}
		if len(got) == 0 {
			return fmt.Sprintf("%s/%s: no FlaggerCanaryInitialized notice yet", r.ns, canaryName)
		}
		return ""
	})
}

type status = stack.CanaryStatus

func (r *run) status() status { r.t.Helper(); return r.s.CanaryStatus(r.t, r.ns, canaryName) }

// wait polls the Canary's status until cond holds.
func (r *run) wait(what string, cond func(status) bool) status {
	r.t.Helper()
	var st status
	harness.Eventually(r.t, stack.FlaggerStepTimeout, func() string {
		if st = r.status(); cond(st) {
			return ""
		}
		return fmt.Sprintf("canary %s/%s: waiting for %s, status %+v", r.ns, canaryName, what, st)
	})
	return st
}

func (r *run) waitPhase(phase string) status {
	r.t.Helper()
	return r.wait("phase "+phase, func(s status) bool { return s.Phase == phase })
}

// reach waits for a phase Flagger holds and settles there.
func (r *run) reach(phase string) {
	r.t.Helper()
	r.waitPhase(phase)
	r.settle(phase, nil)
}

// failed waits for phase Failed, settles there and checks the mixin's alerts
// (see alerts): the end of every scenario whose canary is not promoted. how
// names the way it failed, for docs/conformance.md.
func (r *run) failed(how string, active, never []string) {
	r.t.Helper()
	step := "Failed (" + how + ")"
	r.waitPhase("Failed")
	r.settle(step, nil)
	r.alerts(step, active, never)
}

// gated rolls out behind a closed gate (a webhook of type gate), settles
// in the phase Flagger holds it in, opens the gate and settles again once
// promoted.
func (r *run) gated(gate string, spec stack.CanarySpec, held string) {
	r.t.Helper()
	r.hook(gate, false)
	r.create(spec)
	r.revision(2)
	r.reach(held)
	r.hook(gate, true)
	r.reach("Succeeded")
}

// revision starts a rollout.
func (r *run) revision(n int) { r.s.Cluster.NewRevision(r.t, r.ns, target, n) }

// patchSpec merges fields into the Canary's spec.
func (r *run) patchSpec(fields string) {
	r.t.Helper()
	_, err := r.s.Cluster.Dynamic.Resource(kube.CanaryResource).Namespace(r.ns).Patch(context.Background(), canaryName,
		types.MergePatchType, []byte(`{"spec":`+fields+`}`), metav1.PatchOptions{})
	if err != nil {
		r.t.Fatalf("patch canary spec %s: %v", fields, err)
	}
}

func (r *run) deleteCanary() {
	r.t.Helper()
	if err := r.s.Cluster.Dynamic.Resource(kube.CanaryResource).Namespace(r.ns).Delete(context.Background(), canaryName, metav1.DeleteOptions{}); err != nil {
		r.t.Fatalf("delete canary: %v", err)
	}
}
