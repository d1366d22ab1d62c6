// Package sim simulates Flagger: it drives a Canary's status through the API
// server's status subresource the way Flagger 1.44 writes it, step by step.
//
// The real Flagger (test/conformance, make demo) is the ground truth; the
// simulator stays only where Flagger cannot go: the 10k-canary scale
// benchmark (thousands of canaries changing every second, far past what one
// Flagger analyses at its 10 s minimum interval on two cores), and the
// end-to-end chat test, whose assertions need each step to hold for an exact
// time so that Alertmanager's grouping can be checked message by message.
//
// What it reproduces (FLAGGER-FACTS): the phases; the Promoted condition
// (reason = phase; True for Initialized and Succeeded, False for Failed,
// Unknown otherwise); canaryWeight and iterations reset to 0 outside
// Progressing, Waiting and Promoting; failedChecks reset by a new revision
// and by the rollback; lastTransitionTime stamped on every write;
// lastAppliedSpec changed by a new revision and copied to lastPromotedSpec
// on Initialized and Succeeded. It writes nothing else: no Deployments, no
// traffic, no events.
package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
)

// Canary is one simulated canary. It assumes it is the only writer of the
// status, as Flagger is; it is safe for concurrent use.
type Canary struct {
	Namespace, Name string

	client dynamic.ResourceInterface
	now    func() time.Time

	mu       sync.Mutex
	status   Status
	revision int
}

// Option configures a Canary.
type Option func(*Canary)

// WithClock replaces time.Now, for deterministic timestamps in tests.
func WithClock(now func() time.Time) Option { return func(c *Canary) { c.now = now } }

// New simulates Flagger for the existing Canary namespace/name. It starts
// from an empty status: call it before Flagger would have written one.
func New(client dynamic.Interface, namespace, name string, opts ...Option) *Canary {
	c := &Canary{Namespace: namespace, Name: name, client: client.Resource(kube.CanaryResource).Namespace(namespace), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Status is what the simulator wrote last.
func (c *Canary) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Apply makes one status write and returns the status written.
func (c *Canary) Apply(ctx context.Context, st Step) (Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now().UTC().Truncate(time.Second) // metav1.Time has second precision
	var written Status
	rev := c.revision
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := c.client.Get(ctx, c.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "targetRef", "kind")
		rev = c.revision
		written = c.status.next(st, func() string {
			rev++
			return Checksum(c.Namespace, c.Name, rev)
		}, kind, now)
		u.Object["status"] = written.object()
		_, err = c.client.UpdateStatus(ctx, u, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return c.status, fmt.Errorf("sim: %s/%s: %s (%s): %w", c.Namespace, c.Name, st.Name, st.Phase, err)
	}
	c.status, c.revision = written, rev
	return written, nil
}

// Run plays a scenario: it checks the canary may start it, then applies
// each step, calls observe (if not nil) and holds the step for hold before
// the next. It stops early when ctx ends or observe fails.
func (c *Canary) Run(ctx context.Context, sc Scenario, hold time.Duration, observe func(Step, Status) error) error {
	if err := sc.CanStartFrom(c.Status().Phase); err != nil {
		return err
	}
	for _, st := range sc.Steps {
		s, err := c.Apply(ctx, st)
		if err != nil {
			return err
		}
		if observe != nil {
			if err := observe(st, s); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(hold):
		}
	}
	return nil
}
