package deliver

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestLedgerWindowAndBound(t *testing.T) {
	l := newLedger()
	w := Window{Duration: time.Minute, MaxEntries: 3}
	t0 := time.Unix(1000, 0)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if dup, err := l.claim(ctx, k, t0, w); dup || err != nil {
			t.Fatalf("fresh key %s: dup=%v err=%v", k, dup, err)
		}
		l.settle(k, true, t0, w)
	}
	if dup, _ := l.claim(ctx, "a", t0.Add(59*time.Second), w); !dup {
		t.Error("a delivered within the window must be a duplicate")
	}
	if dup, _ := l.claim(ctx, "a", t0.Add(time.Minute), w); dup {
		t.Error("after the window the event may go again")
	}
	l.settle("a", false, t0, w)
	if ev := l.settle("d", true, t0, w); ev != 0 || l.len() != 3 {
		// "a" expired on the claim above, so d fits.
		t.Errorf("evicted %d, len %d", ev, l.len())
	}
	if ev := l.settle("e", true, t0, w); ev != 1 || l.len() != 3 {
		t.Errorf("bound: evicted %d, len %d", ev, l.len())
	}
	if dup, _ := l.claim(ctx, "b", t0, w); dup {
		t.Error("the oldest entry should have been evicted")
	}
	l.settle("b", false, t0, w)
	if ev := l.settle("x", true, t0, Window{}); ev != 0 || l.len() != 3 {
		t.Error("a zero window must not remember anything")
	}
}

func TestLedgerWaitsForInFlight(t *testing.T) {
	l := newLedger()
	w := Window{Duration: time.Minute, MaxEntries: 10}
	now := time.Now()
	ctx := context.Background()
	if dup, _ := l.claim(ctx, "k", now, w); dup {
		t.Fatal("fresh")
	}
	got := make(chan bool)
	go func() { dup, _ := l.claim(ctx, "k", now, w); got <- dup }()
	select {
	case <-got:
		t.Fatal("second claim did not wait for the first")
	case <-time.After(50 * time.Millisecond):
	}
	l.settle("k", true, now, w)
	if !<-got {
		t.Error("after the owner delivered, the waiter must see a duplicate")
	}

	l.claim(ctx, "j", now, w)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.claim(cctx, "j", now, w); err == nil {
		t.Error("a waiter must give up with its context")
	}
	go func() { dup, _ := l.claim(ctx, "j", now, w); got <- dup }()
	time.Sleep(10 * time.Millisecond)
	l.settle("j", false, now, w)
	if <-got {
		t.Error("after the owner failed, the waiter must own the key")
	}
}

func TestBackoff(t *testing.T) {
	p := Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for attempt, maxWant := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		maxWant *= time.Millisecond
		for range 50 {
			d := backoff(p, attempt, 0)
			if d < maxWant/2 || d > maxWant {
				t.Fatalf("attempt %d: %v not in [%v, %v]", attempt, d, maxWant/2, maxWant)
			}
		}
	}
	if d := backoff(p, 0, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After must win when longer: %v", d)
	}
}

func TestClassify(t *testing.T) {
	for code, want := range map[int]outcome{
		204: {reason: ReasonStatusMisc}, 302: {reason: ReasonStatusMisc},
		400: {reason: ReasonStatus4xx}, 404: {reason: ReasonStatus4xx}, 409: {reason: ReasonStatus4xx},
		429: {retry: true, reason: ReasonStatus429},
		500: {retry: true, reason: ReasonStatus5xx}, 503: {retry: true, reason: ReasonStatus5xx},
	} {
		got := classify(&http.Response{StatusCode: code, Header: http.Header{}}, "")
		if got.ok != want.ok || got.retry != want.retry || got.reason != want.reason {
			t.Errorf("%d: %+v, want %+v", code, got, want)
		}
	}
	for code, want := range map[int]bool{199: false, 200: true, 201: true, 202: true, 203: false, 204: false} {
		if accepted(code) != want {
			t.Errorf("accepted(%d) = %v, want %v (Flagger's senders accept up to 202)", code, !want, want)
		}
	}
	h := http.Header{"Retry-After": {"7"}}
	if got := classify(&http.Response{StatusCode: 429, Header: h}, ""); got.retryAfter != 7*time.Second {
		t.Errorf("Retry-After: %v", got.retryAfter)
	}
}
