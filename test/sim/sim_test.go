package sim_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
)

func TestMain(m *testing.M) { harness.Main(m) }

// clock is a fake time.Now that a test moves forward one step at a time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

// want is the status expected after one step. Revisions are counted per
// canary: 1 is the checksum Initialize recorded, 2 the next revision.
type want struct {
	phase           string
	weight, failed  int64
	promoted        string // the Promoted condition's status
	applied, promRv int    // revision in lastAppliedSpec / lastPromotedSpec (0: absent)
}

func w(phase string, weight, failed int64, promoted string, applied, promoted2 int) want {
	return want{phase, weight, failed, promoted, applied, promoted2}
}

// TestScenarios plays every scenario against the API server and reads the
// Canary back after each step: the status shape Flagger writes.
func TestScenarios(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	ctx := context.Background()
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, harness.Namespace("sim"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		before []sim.Scenario // played first, not asserted
		play   []sim.Scenario
		want   []want
	}{
		{
			name: "initialize",
			play: []sim.Scenario{sim.Initialize()},
			want: []want{
				w(sim.Initializing, 0, 0, "Unknown", 1, 0),
				w(sim.Initialized, 0, 0, "True", 1, 1),
			},
		},
		{
			name:   "successful rollout",
			before: []sim.Scenario{sim.Initialize()},
			play:   []sim.Scenario{sim.SuccessfulRollout(3)},
			want: []want{
				w(sim.Progressing, 0, 0, "Unknown", 2, 1),
				w(sim.Progressing, 10, 0, "Unknown", 2, 1),
				w(sim.Progressing, 20, 0, "Unknown", 2, 1),
				w(sim.Progressing, 30, 0, "Unknown", 2, 1),
				w(sim.Promoting, 30, 0, "Unknown", 2, 1),
				w(sim.Finalising, 0, 0, "Unknown", 2, 1),
				w(sim.Succeeded, 0, 0, "True", 2, 2),
			},
		},
		{
			name:   "failed rollout",
			before: []sim.Scenario{sim.Initialize()},
			play:   []sim.Scenario{sim.FailedRollout(3)},
			want: []want{
				w(sim.Progressing, 0, 0, "Unknown", 2, 1),
				w(sim.Progressing, 10, 0, "Unknown", 2, 1),
				w(sim.Progressing, 10, 1, "Unknown", 2, 1),
				w(sim.Progressing, 10, 2, "Unknown", 2, 1),
				w(sim.Progressing, 10, 3, "Unknown", 2, 1),
				w(sim.Failed, 0, 0, "False", 2, 1), // rolled back: weight and failed checks reset
			},
		},
		{
			name:   "wait for approval, then promote",
			before: []sim.Scenario{sim.Initialize()},
			play:   []sim.Scenario{sim.WaitForApproval(2), sim.Promote()},
			want: []want{
				w(sim.Progressing, 0, 0, "Unknown", 2, 1),
				w(sim.Progressing, 10, 0, "Unknown", 2, 1),
				w(sim.Progressing, 20, 0, "Unknown", 2, 1),
				w(sim.WaitingPromotion, 0, 0, "Unknown", 2, 1), // held here until Promote
				w(sim.Promoting, 0, 0, "Unknown", 2, 1),
				w(sim.Finalising, 0, 0, "Unknown", 2, 1),
				w(sim.Succeeded, 0, 0, "True", 2, 2),
			},
		},
		{
			name:   "recover after a failure",
			before: []sim.Scenario{sim.Initialize(), sim.FailedRollout(2)},
			play:   []sim.Scenario{sim.Recover(1)},
			want: []want{
				w(sim.Progressing, 0, 0, "Unknown", 3, 1), // a third checksum: a new revision
				w(sim.Progressing, 10, 0, "Unknown", 3, 1),
				w(sim.Promoting, 10, 0, "Unknown", 3, 1),
				w(sim.Finalising, 0, 0, "Unknown", 3, 1),
				w(sim.Succeeded, 0, 0, "True", 3, 3),
			},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("canary-%d", i)
			c.CreateCanary(t, "sim", name, "podinfo")
			clk := &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
			s := sim.New(c.Dynamic, "sim", name, sim.WithClock(clk.now))
			for _, sc := range tc.before {
				if err := s.Run(ctx, sc, 0, func(sim.Step, sim.Status) error { clk.tick(); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			var steps []sim.Step
			for _, sc := range tc.play {
				steps = append(steps, sc.Steps...)
			}
			if len(steps) != len(tc.want) {
				t.Fatalf("scenarios have %d steps (%v), the table %d", len(steps), steps, len(tc.want))
			}
			prevCond := condition(c.GetCanary(t, "sim", name))
			for j, st := range steps {
				at := clk.tick()
				if _, err := s.Apply(ctx, st); err != nil {
					t.Fatal(err)
				}
				got := c.GetCanary(t, "sim", name)
				checkStatus(t, fmt.Sprintf("step %d %q", j, st.Name), got, tc.want[j], name, at)
				cond := condition(got)
				checkCondition(t, fmt.Sprintf("step %d %q", j, st.Name), prevCond, cond, at)
				prevCond = cond
			}
		})
	}
}

func checkStatus(t *testing.T, step string, u *unstructured.Unstructured, wt want, name string, at time.Time) {
	t.Helper()
	status, _, _ := unstructured.NestedMap(u.Object, "status")
	keys := []string{"canaryWeight", "conditions", "failedChecks", "iterations", "lastAppliedSpec", "lastTransitionTime", "phase"}
	if wt.promRv > 0 {
		keys = append(keys, "lastPromotedSpec")
	}
	slices.Sort(keys)
	if got := slices.Sorted(maps.Keys(status)); !slices.Equal(got, keys) {
		t.Errorf("%s: status fields %v, want %v", step, got, keys)
	}
	str := func(k string) string { v, _, _ := unstructured.NestedString(status, k); return v }
	num := func(k string) int64 { v, _, _ := unstructured.NestedInt64(status, k); return v }
	if str("phase") != wt.phase || num("canaryWeight") != wt.weight || num("failedChecks") != wt.failed || num("iterations") != 0 {
		t.Errorf("%s: phase/weight/failed/iterations = %s/%d/%d/%d, want %s/%d/%d/0", step,
			str("phase"), num("canaryWeight"), num("failedChecks"), num("iterations"), wt.phase, wt.weight, wt.failed)
	}
	if got, want := str("lastAppliedSpec"), sim.Checksum("sim", name, wt.applied); got != want {
		t.Errorf("%s: lastAppliedSpec %q, want revision %d (%q)", step, got, wt.applied, want)
	}
	if wt.promRv > 0 {
		if got, want := str("lastPromotedSpec"), sim.Checksum("sim", name, wt.promRv); got != want {
			t.Errorf("%s: lastPromotedSpec %q, want revision %d (%q)", step, got, wt.promRv, want)
		}
	}
	if got := str("lastTransitionTime"); got != at.Format(time.RFC3339) {
		t.Errorf("%s: lastTransitionTime %q, want the step's time %s", step, got, at.Format(time.RFC3339))
	}
	conds, _, _ := unstructured.NestedSlice(status, "conditions")
	if len(conds) != 1 {
		t.Fatalf("%s: conditions %v, want exactly Promoted", step, conds)
	}
	cond := conds[0].(map[string]any)
	if cond["type"] != "Promoted" || cond["reason"] != wt.phase || cond["status"] != wt.promoted || cond["message"] == "" {
		t.Errorf("%s: condition %v, want Promoted/%s/%s with a message", step, cond, wt.phase, wt.promoted)
	}
}

type cond struct{ status, reason, updated, transitioned string }

func condition(u *unstructured.Unstructured) cond {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	if len(conds) == 0 {
		return cond{}
	}
	m := conds[0].(map[string]any)
	s := func(k string) string { v, _ := m[k].(string); return v }
	return cond{s("status"), s("reason"), s("lastUpdateTime"), s("lastTransitionTime")}
}

// checkCondition: Flagger rewrites the condition only when its status or
// reason changes, and keeps its transition time while the status stays.
func checkCondition(t *testing.T, step string, prev, cur cond, at time.Time) {
	t.Helper()
	now := at.Format(time.RFC3339)
	switch {
	case prev.status == cur.status && prev.reason == cur.reason:
		if cur != prev {
			t.Errorf("%s: unchanged condition rewritten: %+v -> %+v", step, prev, cur)
		}
	case prev.status == cur.status:
		if cur.updated != now || cur.transitioned != prev.transitioned {
			t.Errorf("%s: reason changed, status not: want lastUpdateTime %s and the old lastTransitionTime, got %+v (before %+v)", step, now, cur, prev)
		}
	default:
		if cur.updated != now || cur.transitioned != now {
			t.Errorf("%s: status changed: want both times %s, got %+v", step, now, cur)
		}
	}
}

// TestRunAndPreconditions: Run holds each step, reports each to observe and
// stops on its error or a cancelled context; scenarios refuse to start from
// the wrong phase; a missing Canary is an error, not a panic.
func TestRunAndPreconditions(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	ctx := context.Background()
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, harness.Namespace("sim"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.CreateCanary(t, "sim", "run", "podinfo")
	s := sim.New(c.Dynamic, "sim", "run")

	for _, sc := range []sim.Scenario{sim.SuccessfulRollout(1), sim.Recover(1), sim.Promote()} {
		if err := s.Run(ctx, sc, 0, nil); err == nil {
			t.Errorf("%s started on a canary Flagger has not initialised", sc.Name)
		}
	}
	var seen []string
	start := time.Now()
	hold := 50 * time.Millisecond
	err := s.Run(ctx, sim.Initialize(), hold, func(st sim.Step, got sim.Status) error {
		seen = append(seen, got.Phase)
		if got != s.Status() {
			t.Errorf("observe got %+v, Status() says %+v", got, s.Status())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, sim.Initialize().Phases()) {
		t.Errorf("observed %v, want %v", seen, sim.Initialize().Phases())
	}
	if d := time.Since(start); d < 2*hold {
		t.Errorf("two steps held %v each took only %v", hold, d)
	}
	if err := s.Run(ctx, sim.Recover(1), 0, nil); err == nil {
		t.Error("Recover started from Initialized")
	}

	stop := errors.New("stop")
	var n int
	if err := s.Run(ctx, sim.FailedRollout(5), 0, func(sim.Step, sim.Status) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("observe error: Run returned %v after %d steps", err, n)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	anyPhase := sim.Scenario{Name: "custom", Steps: sim.Promote().Steps} // no From: starts anywhere
	if err := s.Run(cancelled, anyPhase, time.Hour, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}

	gone := sim.New(c.Dynamic, "sim", "missing")
	if _, err := gone.Apply(ctx, sim.Initialize().Steps[0]); !apierrors.IsNotFound(err) {
		t.Errorf("missing canary: %v", err)
	}
	if gone.Status() != (sim.Status{}) {
		t.Errorf("failed write changed the status: %+v", gone.Status())
	}
}
