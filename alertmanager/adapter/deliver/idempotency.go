package deliver

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Window is the idempotency window: how long, and for how many events per
// target, a delivered event is remembered.
type Window struct {
	Duration   time.Duration
	MaxEntries int
}

// ledger remembers, for one target, which events (by Event.Key) it accepted and
// which are being posted right now. Alertmanager retries a whole notification
// when any target failed; the ledger lets that retry skip what already
// arrived. Entries leave after the window or, oldest first, when the target
// holds MaxEntries: a bounded memory is worth more than a perfect memory, and
// an eviction is counted so an operator can raise the bound.
type ledger struct {
	mu       sync.Mutex
	done     map[string]*list.Element // of *entry, oldest at the front
	order    *list.List
	inflight map[string]chan struct{} // closed on settle; nil until someone waits
}

type entry struct {
	key string
	at  time.Time
}

func newLedger() *ledger {
	return &ledger{done: map[string]*list.Element{}, order: list.New(), inflight: map[string]chan struct{}{}}
}

// claim returns dup=true when key was delivered within the window. Otherwise
// the caller owns key until it calls settle. A second request carrying the
// same event (two Alertmanager replicas, or a retry racing a slow first try)
// waits for the owner rather than posting it too.
func (l *ledger) claim(ctx context.Context, key string, now time.Time, w Window) (dup bool, err error) {
	for {
		l.mu.Lock()
		if el, ok := l.done[key]; ok {
			if now.Sub(el.Value.(*entry).at) < w.Duration {
				l.mu.Unlock()
				return true, nil
			}
			l.remove(el)
		}
		wait, busy := l.inflight[key]
		if !busy {
			// No channel yet: almost every claim is settled with nobody
			// waiting, so the first waiter makes it.
			l.inflight[key] = nil
			l.mu.Unlock()
			return false, nil
		}
		if wait == nil {
			wait = make(chan struct{})
			l.inflight[key] = wait
		}
		l.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// settle ends the claim; a delivered key is remembered. It returns how many
// entries the size bound pushed out early.
func (l *ledger) settle(key string, delivered bool, now time.Time, w Window) (evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.inflight[key]; ok {
		if ch != nil {
			close(ch)
		}
		delete(l.inflight, key)
	}
	if !delivered || w.Duration <= 0 {
		return 0
	}
	if el, ok := l.done[key]; ok {
		l.remove(el)
	}
	l.done[key] = l.order.PushBack(&entry{key: key, at: now})
	for el := l.order.Front(); el != nil && now.Sub(el.Value.(*entry).at) >= w.Duration; el = l.order.Front() {
		l.remove(el)
	}
	for w.MaxEntries > 0 && l.order.Len() > w.MaxEntries {
		l.remove(l.order.Front())
		evicted++
	}
	return evicted
}

func (l *ledger) remove(el *list.Element) {
	delete(l.done, el.Value.(*entry).key)
	l.order.Remove(el)
}

func (l *ledger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
