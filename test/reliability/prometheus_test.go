package reliability

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// notices are the lifecycle notices a canary sends on initialisation and
// on a new revision, as the event consumer words them.
var notices = []string{"Initialization done", "New revision detected"}

// TestPrometheusRestart: a canary announces its initialisation and a new
// revision and stays Progressing, so both notices keep firing for the
// lifecycle window; then Prometheus restarts on its data directory. The
// notices are evaluated again, with a new startsAt, and sent again:
// Alertmanager still holds them as firing, merges them and notifies no one,
// chat or event consumer. A Prometheus down longer than its alerts stay
// valid in Alertmanager (four resend delays: 4 min with the default 1m) is
// an outage: the notices resolve there, and when Prometheus is back those
// still in their window are notified once more; the test measures that.
func TestPrometheusRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resend time.Duration // Prometheus --rules.alert.resend-delay
		down   time.Duration // between SIGTERM and the new start
	}{
		// Valid for 4 x 10 s = 40 s; the restart takes a few seconds.
		{"restart", 10 * time.Second, time.Second},
		// Valid for 4 x max(1 s evaluation, 0.5 s) = 4 s; down 10 s.
		{"outage", 500 * time.Millisecond, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := stack.Start(t, stack.Options{ResendDelay: tc.resend})
			c := s.AddCanary(t, "reliability", "app", "app")
			if err := c.Run(t.Context(), sim.Initialize(), 2*time.Second, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Apply(t.Context(), sim.Step{Name: "New revision detected", Phase: sim.Progressing, NewRevision: true}); err != nil {
				t.Fatal(err)
			}
			sinks := []*stack.Sink{s.Events, s.Slack, s.Teams}
			harness.Eventually(t, 60*time.Second, func() string { return eventCopies(s.Events, 1) })
			before := quiet(t, sinks, 5*time.Second)

			start := time.Now()
			s.RestartPrometheus(t, tc.down)
			t.Logf("Prometheus down and back in %v", time.Since(start).Round(100*time.Millisecond))
			// Long enough for the notices to be evaluated, sent and
			// grouped again (group_wait and group_interval are 1-2 s here).
			time.Sleep(15 * time.Second)
			after := counts(sinks)
			t.Logf("messages per sink before the restart %v, after %v", before, after)
			switch tc.name {
			case "restart":
				// The restarted Prometheus did send the notices again:
				// that nobody heard of them is Alertmanager's doing.
				if n := notificationsSent(t, s); n == 0 {
					t.Error("the restarted Prometheus sent no alerts: the test proves nothing")
				}
				if r := eventCopies(s.Events, 1); r != "" {
					t.Error(r)
				}
				for name, n := range after {
					if n != before[name] {
						t.Errorf("%s got %d messages after the restart, want none", name, n-before[name])
					}
				}
			case "outage":
				// The notice whose canary is still in its phase is sent
				// once more to every receiver, under a new startsAt (so a
				// new Idempotency-Key); the one whose canary moved on is
				// not.
				if r := noticeCopies(s.Events, map[string]int{"Initialization done": 1, "New revision detected": 2}); r != "" {
					t.Error(r)
				}
				for name, n := range after {
					if n != before[name]+1 {
						t.Errorf("%s got %d messages after the outage, want 1", name, n-before[name])
					}
				}
			}
		})
	}
}

// eventCopies says how the consumer's count of each notice differs from want.
func eventCopies(k *stack.Sink, want int) string {
	w := map[string]int{}
	for _, n := range notices {
		w[n] = want
	}
	return noticeCopies(k, w)
}

// noticeCopies says how the consumer's count of each notice differs from
// want[notice].
func noticeCopies(k *stack.Sink, want map[string]int) string {
	var diffs []string
	for _, n := range notices {
		got := 0
		for _, m := range k.Messages() {
			if strings.Contains(string(m.Body), n) {
				got++
			}
		}
		if got != want[n] {
			diffs = append(diffs, fmt.Sprintf("%q %d times, want %d", n, got, want[n]))
		}
	}
	if len(diffs) > 0 {
		return "at the event consumer: " + strings.Join(diffs, ", ")
	}
	return ""
}

func counts(sinks []*stack.Sink) map[string]int {
	out := map[string]int{}
	for _, k := range sinks {
		out[k.Name] = len(k.Messages())
	}
	return out
}

// quiet waits until no sink has received anything for d and returns the
// counts then.
func quiet(t *testing.T, sinks []*stack.Sink, d time.Duration) map[string]int {
	t.Helper()
	last, since := counts(sinks), time.Now()
	harness.Eventually(t, time.Minute, func() string {
		now := counts(sinks)
		if !maps.Equal(now, last) {
			last, since = now, time.Now()
		}
		if time.Since(since) < d {
			return fmt.Sprintf("sinks still receiving: %v", now)
		}
		return ""
	})
	return last
}

// notificationsSent is prometheus_notifications_sent_total of the running
// Prometheus, summed over its Alertmanagers.
func notificationsSent(t *testing.T, s *stack.Stack) float64 {
	t.Helper()
	fams, err := harness.Scrape(t, s.PrometheusURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, v := range testutil.Values(fams, "prometheus_notifications_sent_total", nil) {
		sum += v
	}
	return sum
}
