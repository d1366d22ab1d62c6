package deliver

import (
	"context"
	"encoding/json"
	"sync"
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
	ledgers map[string]*ledger // by target name
}

// New returns a Deliverer registering its metrics with reg (nil: none).
func New(logger log.Logger, reg prometheus.Registerer) *Deliverer {
	return &Deliverer{logger: logger, m: newMetrics(reg), now: time.Now, ledgers: map[string]*ledger{}}
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
func (d *Deliverer) Deliver(ctx context.Context, targets []*Target, events []event.Event, w Window) *Report {
	bodies := make([][]byte, len(events))
	for i := range events {
		bodies[i], _ = json.Marshal(&events[i]) // strings only: cannot fail
	}
	rep := &Report{Events: len(events), Targets: make([]TargetReport, len(targets))}
	routed := make([]bool, len(events))
	var wg sync.WaitGroup
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
		wg.Go(func() { d.toTarget(ctx, t, events, bodies, mine, w, &rep.Targets[ti]) })
	}
	for _, r := range routed {
		if !r {
			rep.Unrouted++
		}
	}
	d.m.unrouted.Add(float64(rep.Unrouted))
	wg.Wait()
	return rep
}

// toTarget posts the selected events to one target. Events of one canary go
// in notification order, one at a time, so a consumer sees Flagger's sequence;
// different canaries go in parallel up to the target's concurrency.
func (d *Deliverer) toTarget(ctx context.Context, t *Target, events []event.Event, bodies [][]byte, idx []int, w Window, rep *TargetReport) {
	parts := partition(events, idx)
	l := d.ledger(t.Name)
	var mu sync.Mutex
	next := make(chan []int)
	var wg sync.WaitGroup
	for range min(max(t.Policy.Concurrency, 1), len(parts)) {
		wg.Go(func() {
			for part := range next {
				var local TargetReport
				d.canary(ctx, t, l, events, bodies, part, w, &local)
				mu.Lock()
				rep.add(&local)
				mu.Unlock()
			}
		})
	}
	for _, p := range parts {
		next <- p
	}
	close(next)
	wg.Wait()
	d.m.entries.WithLabelValues(t.Name).Set(float64(l.len()))
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
func (d *Deliverer) canary(ctx context.Context, t *Target, l *ledger, events []event.Event, bodies [][]byte, part []int, w Window, rep *TargetReport) {
	for n, i := range part {
		key := events[i].Key
		dup, err := l.claim(ctx, key, d.now(), w)
		if err != nil {
			rep.fail(ReasonDeadline, err)
			rep.Pending += len(part) - n
			d.m.failed.WithLabelValues(t.Name, ReasonDeadline).Inc()
			return
		}
		if dup {
			rep.Duplicates++
			d.m.duplicates.WithLabelValues(t.Name).Inc()
			continue
		}
		out := d.post(ctx, t, t.request(bodies[i], key))
		// A refused event is settled as delivered too: posting a 400 again on
		// Alertmanager's retry would only be refused again.
		settled := out.ok || !out.retry
		if ev := l.settle(key, settled, d.now(), w); ev > 0 {
			d.m.evictions.WithLabelValues(t.Name).Add(float64(ev))
		}
		switch {
		case out.ok:
			rep.Delivered++
			d.m.sent.WithLabelValues(t.Name).Inc()
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
	for name := range d.ledgers {
		if !keep[name] {
			delete(d.ledgers, name)
			d.m.entries.DeleteLabelValues(name)
		}
	}
}

func (d *Deliverer) ledger(target string) *ledger {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.ledgers[target]
	if !ok {
		l = newLedger()
		d.ledgers[target] = l
	}
	return l
}

// partition groups event indexes by canary, keeping notification order
// within each group and first-seen order between groups.
func partition(events []event.Event, idx []int) [][]int {
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
