package deliver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

// sink is a fake consumer. answer decides the status of the n-th request
// (counting from 0) for an event; returning 0 hangs until the client gives up
// and -1 closes the connection without answering.
type sink struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	accepted []event.Event
	answer   func(n int, e event.Event) int
}

func newSink(t *testing.T, answer func(n int, e event.Event) int) *sink {
	s := &sink{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e event.Event
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			t.Errorf("target got a bad body: %v", err)
		}
		s.mu.Lock()
		n := s.requests
		s.requests++
		s.mu.Unlock()
		code := http.StatusAccepted
		if s.answer != nil {
			code = s.answer(n, e)
		}
		switch code {
		case 0:
			<-r.Context().Done()
			return
		case -1:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		if code <= 202 {
			s.mu.Lock()
			s.accepted = append(s.accepted, e)
			s.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) got() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.accepted...)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func target(name, url string, p deliver.Policy, matchers ...string) *deliver.Target {
	if p.Timeout == 0 {
		p.Timeout = time.Second
	}
	if p.MinBackoff == 0 {
		p.MinBackoff, p.MaxBackoff = time.Millisecond, 10*time.Millisecond
	}
	if p.Concurrency == 0 {
		p.Concurrency = 4
	}
	t := &deliver.Target{Name: name, URL: deliver.Secret(url), Client: &http.Client{}, Policy: p}
	for _, s := range matchers {
		m, err := labels.ParseMatcher(s)
		if err != nil {
			panic(err)
		}
		t.Matchers = append(t.Matchers, m)
	}
	return t
}

func events(n, canaries int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		c := fmt.Sprintf("c%d", i%canaries)
		out[i] = event.Event{
			Name: c, Namespace: "ns", Phase: "Failed", Checksum: fmt.Sprintf("%016x", i), Key: fmt.Sprintf("%016x", i),
			Metadata: map[string]string{"eventMessage": "m", "eventType": "Warning", "timestamp": fmt.Sprint(i)},
			Labels:   map[string]string{"canary": c, "namespace": "ns", "i": fmt.Sprint(i)},
		}
	}
	return out
}

var window = deliver.Window{Duration: time.Hour, MaxEntries: 10000}

func newDeliverer() *deliver.Deliverer {
	return deliver.New(log.NewNopLogger(), prometheus.NewRegistry())
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestDeliverAll(t *testing.T) {
	s := newSink(t, nil)
	d := newDeliverer()
	evs := events(20, 3)
	rep := d.Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{target("a", s.URL, deliver.Policy{})}, evs, window)
	if rep.Retry() || rep.Targets[0].Delivered != 20 || len(s.got()) != 20 {
		t.Fatalf("report %+v, target got %d", rep, len(s.got()))
	}
	rep = d.Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{target("a", s.URL, deliver.Policy{})}, evs, window)
	if rep.Targets[0].Duplicates != 20 || s.count() != 20 {
		t.Fatalf("second delivery must skip everything: %+v, %d requests", rep, s.count())
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for name, fail := range map[string]int{"500": 500, "503": 503, "429": 429, "closed connection": -1} {
		t.Run(name, func(t *testing.T) {
			s := newSink(t, func(n int, _ event.Event) int {
				if n < 3 {
					return fail
				}
				return 200
			})
			rep := newDeliverer().Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{target("a", s.URL, deliver.Policy{MaxRetries: 5})}, events(1, 1), window)
			if rep.Retry() || rep.Targets[0].Delivered != 1 || s.count() != 4 {
				t.Fatalf("report %+v after %d requests", rep.Targets[0], s.count())
			}
		})
	}
}

func TestFinalFailuresAreNotRetried(t *testing.T) {
	for _, code := range []int{400, 404, 204} {
		s := newSink(t, func(int, event.Event) int { return code })
		d := newDeliverer()
		tg := target("a", s.URL, deliver.Policy{MaxRetries: 5})
		rep := d.Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{tg}, events(2, 1), window)
		if rep.Retry() || rep.Targets[0].Refused != 2 || s.count() != 2 || !strings.Contains(rep.Targets[0].Error, fmt.Sprint(code)) {
			t.Fatalf("%d: report %+v after %d requests", code, rep.Targets[0], s.count())
		}
		// Alertmanager may resend because of another target; a refusal is
		// not worth repeating.
		rep = d.Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{tg}, events(2, 1), window)
		if rep.Targets[0].Duplicates != 2 || s.count() != 2 {
			t.Fatalf("%d: refused events were posted again", code)
		}
	}
}

func TestHangingTargetEndsWithinDeadline(t *testing.T) {
	s := newSink(t, func(int, event.Event) int { return 0 })
	start := time.Now()
	rep := newDeliverer().Deliver(ctxFor(t, 600*time.Millisecond),
		[]*deliver.Target{target("a", s.URL, deliver.Policy{Timeout: 100 * time.Millisecond, MaxRetries: 100})}, events(3, 1), window)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v for a 600ms deadline", took)
	}
	r := rep.Targets[0]
	if !rep.Retry() || r.Pending != 3 || (r.Reason != deliver.ReasonTimeout && r.Reason != deliver.ReasonDeadline) || s.count() < 3 {
		t.Errorf("report %+v after %d requests", r, s.count())
	}
}

func TestSlowTargetWithinTimeout(t *testing.T) {
	s := newSink(t, func(int, event.Event) int { time.Sleep(50 * time.Millisecond); return 200 })
	rep := newDeliverer().Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{target("a", s.URL, deliver.Policy{Timeout: time.Second})}, events(8, 8), window)
	if rep.Retry() || rep.Targets[0].Delivered != 8 || s.count() != 8 {
		t.Errorf("report %+v", rep.Targets[0])
	}
}

func TestRetryAfterBeyondDeadlineGivesUpAtOnce(t *testing.T) {
	s := newSink(t, nil)
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
	})
	start := time.Now()
	rep := newDeliverer().Deliver(ctxFor(t, 2*time.Second), []*deliver.Target{target("a", s.URL, deliver.Policy{MaxRetries: 5})}, events(1, 1), window)
	if time.Since(start) > 1500*time.Millisecond || !rep.Retry() || rep.Targets[0].Reason != deliver.ReasonStatus429 {
		t.Errorf("report %+v after %v", rep.Targets[0], time.Since(start))
	}
}

// TestOrderPerCanary: one canary's events arrive in notification order; a
// transient failure holds back that canary's later events, not others'.
func TestOrderPerCanary(t *testing.T) {
	s := newSink(t, func(_ int, e event.Event) int {
		if e.Name == "c1" && e.Metadata["timestamp"] == "4" {
			return 500
		}
		return 200
	})
	rep := newDeliverer().Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{target("a", s.URL, deliver.Policy{MaxRetries: 1})}, events(30, 3), window)
	last := map[string]int{}
	for _, e := range s.got() {
		var i int
		fmt.Sscan(e.Metadata["timestamp"], &i)
		if i <= last[e.Name] && last[e.Name] != 0 {
			t.Errorf("%s: event %d after %d", e.Name, i, last[e.Name])
		}
		last[e.Name] = i
		if e.Name == "c1" && i > 4 {
			t.Errorf("c1 event %d overtook the failed event 4", i)
		}
	}
	// c1 has events 1,4,7,...,28: 1 delivered, 9 pending from 4 on.
	if r := rep.Targets[0]; r.Delivered != 21 || r.Pending != 9 || !rep.Retry() {
		t.Errorf("report %+v", r)
	}
}

// TestConcurrencyPerTarget: different canaries go to a target in parallel,
// never more than its concurrency at once (the notification's own goroutine
// being one of the workers), and targets do not wait for each other.
func TestConcurrencyPerTarget(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := map[string]int{}, map[string]int{}
	overlapped := false
	track := func(target, other string) func(int, event.Event) int {
		return func(int, event.Event) int {
			mu.Lock()
			inFlight[target]++
			peak[target] = max(peak[target], inFlight[target])
			overlapped = overlapped || inFlight[other] > 0
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			inFlight[target]--
			mu.Unlock()
			return 200
		}
	}
	a, b := newSink(t, track("a", "b")), newSink(t, track("b", "a"))
	rep := newDeliverer().Deliver(ctxFor(t, 10*time.Second), []*deliver.Target{
		target("a", a.URL, deliver.Policy{Concurrency: 3}),
		target("b", b.URL, deliver.Policy{Concurrency: 1}),
	}, events(12, 6), window)
	if rep.Retry() || rep.Targets[0].Delivered != 12 || rep.Targets[1].Delivered != 12 {
		t.Fatalf("report %+v", rep)
	}
	if peak["a"] < 2 || peak["a"] > 3 || peak["b"] != 1 {
		t.Errorf("peak requests in flight: a %d (concurrency 3), b %d (concurrency 1)", peak["a"], peak["b"])
	}
	if !overlapped {
		t.Error("the two targets were not posted to in parallel")
	}
}

func TestRoutingByMatchers(t *testing.T) {
	a, b := newSink(t, nil), newSink(t, nil)
	evs := events(10, 5) // canaries c0..c4
	rep := newDeliverer().Deliver(ctxFor(t, 5*time.Second), []*deliver.Target{
		target("a", a.URL, deliver.Policy{}, "canary=c0"),
		target("b", b.URL, deliver.Policy{}, "canary=c1"),
	}, evs, window)
	if len(a.got()) != 2 || len(b.got()) != 2 || rep.Unrouted != 6 || rep.Retry() {
		t.Errorf("a got %d, b got %d, report %+v", len(a.got()), len(b.got()), rep)
	}
}

// TestConcurrentDuplicatesDeliverOnce: many notifications carrying the same
// events at once (Alertmanager HA pairs do this) still deliver each once.
func TestConcurrentDuplicatesDeliverOnce(t *testing.T) {
	s := newSink(t, func(n int, _ event.Event) int {
		if n%5 == 0 {
			return 503
		}
		return 200
	})
	d := newDeliverer()
	tg := target("a", s.URL, deliver.Policy{MaxRetries: 10})
	evs := events(50, 10)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if rep := d.Deliver(ctxFor(t, 10*time.Second), []*deliver.Target{tg}, evs, window); rep.Retry() {
				t.Errorf("report %+v", rep.Targets[0])
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, e := range s.got() {
		seen[e.Checksum]++
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct events delivered, want 50", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}

func TestErrorsDoNotLeakTheURL(t *testing.T) {
	s := newSink(t, nil)
	url := s.URL + "/hook/s3cret-token"
	s.Close()
	rep := newDeliverer().Deliver(ctxFor(t, 2*time.Second), []*deliver.Target{target("a", url, deliver.Policy{MaxRetries: 1})}, events(1, 1), window)
	if !rep.Retry() || rep.Targets[0].Reason != deliver.ReasonTransport {
		t.Fatalf("report %+v", rep.Targets[0])
	}
	if strings.Contains(rep.Targets[0].Error, "s3cret") || strings.Contains(fmt.Sprintf("%v %+v", target("a", url, deliver.Policy{}), *target("a", url, deliver.Policy{})), "s3cret") {
		t.Errorf("URL leaked: %s", rep.Targets[0].Error)
	}
}

func TestLogsNameTheTargetNotTheURL(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := log.LoggerFunc(func(kv ...any) error {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(&buf, kv...)
		return nil
	})
	s := newSink(t, func(int, event.Event) int { return 500 })
	d := deliver.New(logger, nil)
	d.Deliver(ctxFor(t, 2*time.Second), []*deliver.Target{target("named", s.URL+"/s3cret", deliver.Policy{MaxRetries: 1})}, events(1, 1), window)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "named") || strings.Contains(buf.String(), "s3cret") {
		t.Errorf("log: %s", buf.String())
	}
}
