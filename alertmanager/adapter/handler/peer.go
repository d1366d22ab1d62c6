package handler

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/go-kit/log/level"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
)

// Results of a forward, the values of the forwards metric's label.
const (
	forwardOK       = "ok"
	forwardFallback = "fallback"
	forwardFailed   = "failed"
)

// deliver sends each event from the replica that owns its canary: this
// one's directly, the others' by forwarding, all at once, and merges the
// reports. Without cluster.peers everything is delivered here.
func (h *Webhook) deliver(ctx context.Context, rt *config.Runtime, events []event.Event) *deliver.Report {
	if rt.Ring == nil || len(events) == 0 {
		return h.deliverer.Deliver(ctx, rt.Targets, events, rt.Window)
	}
	byOwner := map[int][]event.Event{}
	for _, e := range events {
		o := rt.Ring.Owner(e.Canary())
		byOwner[o] = append(byOwner[o], e)
	}
	var (
		mu  sync.Mutex
		rep = &deliver.Report{}
		wg  sync.WaitGroup
	)
	add := func(r *deliver.Report) {
		mu.Lock()
		rep.Merge(r)
		mu.Unlock()
	}
	for owner, evs := range byOwner {
		if owner == rt.Ring.Self {
			continue
		}
		wg.Go(func() { add(h.forward(ctx, rt, owner, evs)) })
	}
	if own := byOwner[rt.Ring.Self]; len(own) > 0 {
		add(h.deliverer.Deliver(ctx, rt.Targets, own, rt.Window))
	}
	wg.Wait()
	return rep
}

// forward hands evs to their owner. An owner that cannot be reached has
// delivered nothing, so this replica delivers them itself: availability
// first, at the price of a possible second copy if the owner comes back
// while a peer's copy is still on its way (the Idempotency-Key tells the
// consumer). An owner that was reached but gave no report may have
// delivered: the events stay pending, for Alertmanager to retry.
func (h *Webhook) forward(ctx context.Context, rt *config.Runtime, owner int, evs []event.Event) *deliver.Report {
	rep, err := peer.Forward(ctx, rt.PeerClient, rt.Ring.URLs[owner], evs)
	switch {
	case err == nil:
		h.m.forwards.WithLabelValues(forwardOK).Inc()
		return rep
	case errors.Is(err, peer.ErrUnreachable):
		h.m.forwards.WithLabelValues(forwardFallback).Inc()
		level.Warn(h.logger).Log("msg", "owning replica unreachable; delivering its events here", "peer", rt.Ring.URLs[owner], "events", len(evs), "err", err)
		return h.deliverer.Deliver(ctx, rt.Targets, evs, rt.Window)
	default:
		h.m.forwards.WithLabelValues(forwardFailed).Inc()
		level.Warn(h.logger).Log("msg", "forward to the owning replica failed; leaving its events to Alertmanager's retry", "peer", rt.Ring.URLs[owner], "events", len(evs), "err", err)
		return deliver.Unsent(rt.Targets, evs, deliver.ReasonPeer, err)
	}
}

// PeerDeliver serves peer.Path: events another replica forwards because
// this one owns their canaries. They are delivered here and never
// forwarded again, whatever this replica's own view of the ring.
type PeerDeliver struct{ *Webhook }

func (p PeerDeliver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "method %s not allowed: POST forwarded events", r.Method)
		return
	}
	rt := p.current()
	if rt == nil {
		plain(w, http.StatusServiceUnavailable, "no configuration loaded yet")
		return
	}
	body, err := payload.ReadBody(r.Body, r.ContentLength, rt.MaxBodyBytes)
	if err != nil {
		var pe *payload.Error
		if errors.As(err, &pe) {
			plain(w, pe.Code, "%s", pe.Msg)
			return
		}
		plain(w, http.StatusBadRequest, "%v", err)
		return
	}
	evs, err := peer.Decode(bytes.NewReader(body))
	if err != nil {
		plain(w, http.StatusBadRequest, "%v", err)
		return
	}
	// The owner finishes what it started even when the forwarding replica
	// stops waiting: delivered events then sit in its window for the retry.
	ctx, cancel := deliveryContext(r, rt.RequestTimeout)
	defer cancel()
	rep := p.deliverer.Deliver(ctx, rt.Targets, evs, rt.Window)
	code := http.StatusOK
	if rep.Retry() {
		code = http.StatusServiceUnavailable
	}
	reply(w, code, rep)
}
