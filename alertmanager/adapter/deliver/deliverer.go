package deliver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

// Deliverer posts events to targets. One lives for the whole process so its
// idempotency ledgers survive config reloads.
type Deliverer struct {
	logger log.Logger
	m      *metrics
	now    func() time.Time

	mu      sync.Mutex
	targets map[string]*targetState // by target name
}

// targetState is what one target name keeps across notifications and
// reloads: its idempotency ledger, and its metric series resolved once, so
// the per-event path does no label lookups. Resolved on first use
// (sync.OnceValue), so a series still appears only once it has something
// to count, as with WithLabelValues at each use.
type targetState struct {
	*ledger
	entries                   prometheus.Gauge
	sent, duplicates, evicted func() prometheus.Counter
	latency                   func() prometheus.Observer
}

// New returns a Deliverer registering its metrics with reg (nil: none).
func New(logger log.Logger, reg prometheus.Registerer) *Deliverer {
	return &Deliverer{logger: logger, m: newMetrics(reg), now: time.Now, targets: map[string]*targetState{}}
}

// Report says what happened to one notification's events.
type Report struct {
	Events   int            `json:"events"`
	Unrouted int            `json:"unrouted"`
	Targets  []TargetReport `json:"targets"`
}

// TargetReport counts (event, target) outcomes. Pending events were not
// accepted and are worth retrying: they failed transiently, or waited behind
// an earlier event of the same canary that did.
type TargetReport struct {
	Target     string `json:"target"`
	Delivered  int    `json:"delivered"`
	Duplicates int    `json:"duplicates"`
	Refused    int    `json:"refused"`
	Pending    int    `json:"pending"`
	Error      string `json:"error,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Merge adds o's counts to r, target by target.
func (r *Report) Merge(o *Report) {
	r.Events += o.Events
	r.Unrouted += o.Unrouted
	for i := range o.Targets {
		found := false
		for j := range r.Targets {
			if r.Targets[j].Target == o.Targets[i].Target {
				r.Targets[j].add(&o.Targets[i])
				found = true
				break
			}
		}
		if !found {
			r.Targets = append(r.Targets, o.Targets[i])
		}
	}
}

// Unsent is the report of events that were not tried here and are worth
// retrying: each pending at every target that selects it.
func Unsent(targets []*Target, events []event.Event, reason string, err error) *Report {
	rep := &Report{Events: len(events), Targets: make([]TargetReport, len(targets))}
	for ti, t := range targets {
		rep.Targets[ti].Target = t.Name
		for i := range events {
			if t.Selects(events[i].Labels) {
				rep.Targets[ti].Pending++
			}
		}
		if rep.Targets[ti].Pending > 0 {
			rep.Targets[ti].fail(reason, err)
		}
	}
	return rep
}

// Retry reports whether Alertmanager should send the notification again.
func (r *Report) Retry() bool {
	for _, t := range r.Targets {
		if t.Pending > 0 {
			return true
		}
	}
	return false
}

// Deliver posts every event to every target that selects it and returns once
// each is accepted, refused for good, or out of time (ctx).
//
// The calling goroutine does a share of the work itself (the last target, and
// in toTarget one canary queue) instead of handing it to a new goroutine and
// waiting: on the common path, one target and one canary, nothing is handed
// off at all. Each hand-off cost scheduler wakeups and a fresh goroutine
// whose stack had to grow to net/http's depth: on one sequential
// Alertmanager client sending single alerts, about half of what the adapter
// added to a plain relay's latency.
func (d *Deliverer) Deliver(ctx context.Context, targets []*Target, events []event.Event, w Window) *Report {
	bodies := make([][]byte, len(events))
	for i := range events {
		bodies[i] = events[i].AppendJSON(nil)
	}
	rep := &Report{Events: len(events), Targets: make([]TargetReport, len(targets))}
	routed := make([]bool, len(events))
	var wg sync.WaitGroup
	var inline func() // the last target with events, delivered in this goroutine
	for ti, t := range targets {
		var mine []int
		for i := range events {
			if t.Selects(events[i].Labels) {
				mine = append(mine, i)
				routed[i] = true
			}
		}
		rep.Targets[ti].Target = t.Name
		if len(mine) == 0 {
			continue
		}
		if inline != nil {
			wg.Go(inline)
		}
		inline = func() { d.toTarget(ctx, t, events, bodies, mine, w, &rep.Targets[ti]) }
	}
	for _, r := range routed {
		if !r {
			rep.Unrouted++
		}
	}
	if rep.Unrouted > 0 {
		d.m.unrouted.Add(float64(rep.Unrouted))
	}
	if inline != nil {
		inline()
	}
	wg.Wait()
	return rep
}

// toTarget posts the selected events to one target. Events of one canary go
// in notification order, one at a time, so a consumer sees Flagger's sequence;
// different canaries go in parallel up to the target's concurrency. Workers
// take the next canary's queue from a shared index; the calling goroutine is
// one of them, so a notification about one canary starts no goroutine.
func (d *Deliverer) toTarget(ctx context.Context, t *Target, events []event.Event, bodies [][]byte, idx []int, w Window, rep *TargetReport) {
	parts := partition(events, idx)
	st := d.target(t.Name)
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	work := func() {
		for p := next.Add(1) - 1; p < int64(len(parts)); p = next.Add(1) - 1 {
			var local TargetReport
			d.canary(ctx, t, st, events, bodies, parts[p], w, &local)
			mu.Lock()
			rep.add(&local)
			mu.Unlock()
		}
	}
	for range min(max(t.Policy.Concurrency, 1), len(parts)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	st.entries.Set(float64(st.len()))
	if rep.Pending > 0 || rep.Refused > 0 {
		// One line per target and notification, not per event: a target that
		// is down for a group of a thousand alerts should not flood the log.
		level.Warn(d.logger).Log("msg", "target did not accept every event", "target", t.Name,
			"delivered", rep.Delivered, "refused", rep.Refused, "pending", rep.Pending, "reason", rep.Reason, "err", rep.Error)
	}
}

// canary posts one canary's events in order and stops at the first transient
// failure: a later event must not overtake an earlier one that Alertmanager's
// retry will bring again.
func (d *Deliverer) canary(ctx context.Context, t *Target, st *targetState, events []event.Event, bodies [][]byte, part []int, w Window, rep *TargetReport) {
	for n, i := range part {
		key := events[i].Key
		dup, err := st.claim(ctx, key, d.now(), w)
		if err != nil {
			rep.fail(ReasonDeadline, err)
			rep.Pending += len(part) - n
			d.m.failed.WithLabelValues(t.Name, ReasonDeadline).Inc()
			return
		}
		if dup {
			rep.Duplicates++
			st.duplicates().Inc()
			continue
		}
		out := d.post(ctx, t, st, t.request(bodies[i], key))
		// A refused event is settled as delivered too: posting a 400 again on
		// Alertmanager's retry would only be refused again.
		settled := out.ok || !out.retry
		if ev := st.settle(key, settled, d.now(), w); ev > 0 {
			st.evicted().Add(float64(ev))
		}
		switch {
		case out.ok:
			rep.Delivered++
			st.sent().Inc()
		case !out.retry:
			rep.Refused++
			rep.fail(out.reason, out.err)
			d.m.failed.WithLabelValues(t.Name, out.reason).Inc()
		default:
			rep.fail(out.reason, out.err)
			rep.Pending += len(part) - n
			d.m.failed.WithLabelValues(t.Name, out.reason).Inc()
			return
		}
	}
}

// Forget drops the ledgers of targets no longer configured.
func (d *Deliverer) Forget(keep map[string]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name := range d.targets {
		if !keep[name] {
			delete(d.targets, name)
			d.m.entries.DeleteLabelValues(name)
		}
	}
}

func (d *Deliverer) target(name string) *targetState {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.targets[name]
	if !ok {
		counter := func(v *prometheus.CounterVec) func() prometheus.Counter {
			return sync.OnceValue(func() prometheus.Counter { return v.WithLabelValues(name) })
		}
		st = &targetState{
			ledger:     newLedger(),
			entries:    d.m.entries.WithLabelValues(name),
			sent:       counter(d.m.sent),
			duplicates: counter(d.m.duplicates),
			evicted:    counter(d.m.evictions),
			latency:    sync.OnceValue(func() prometheus.Observer { return d.m.latency.WithLabelValues(name) }),
		}
		d.targets[name] = st
	}
	return st
}

// partition groups event indexes by canary, keeping notification order
// within each group and first-seen order between groups.
func partition(events []event.Event, idx []int) [][]int {
	if len(idx) == 1 {
		return [][]int{idx} // the common single-alert notification: no map
	}
	type canary struct{ namespace, name string } // as Canary() tells them, without building the string
	pos := map[canary]int{}
	var parts [][]int
	for _, i := range idx {
		c := canary{events[i].Namespace, events[i].Name}
		p, ok := pos[c]
		if !ok {
			p = len(parts)
			pos[c] = p
			parts = append(parts, nil)
		}
		parts[p] = append(parts[p], i)
	}
	return parts
}

func (r *TargetReport) add(o *TargetReport) {
	r.Delivered += o.Delivered
	r.Duplicates += o.Duplicates
	r.Refused += o.Refused
	r.Pending += o.Pending
	// Keep one error, preferring one that makes Alertmanager retry.
	if o.Error != "" && (r.Error == "" || o.Pending > 0) {
		r.Error, r.Reason = o.Error, o.Reason
	}
}

func (r *TargetReport) fail(reason string, err error) {
	r.Reason = reason
	if err != nil {
		r.Error = err.Error()
	}
}
