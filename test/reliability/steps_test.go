package reliability

import (
	"fmt"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/events"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// steps are n Flagger per-step events as flagger-exporter posts them to
// Alertmanager (alertname FlaggerCanaryStep, one alert per Kubernetes
// Event occurrence), over canaries canaries, each tagged with run so two
// bursts never share an alert.
func steps(run string, n, canaries int) []events.Alert {
	now := time.Now().UTC().Truncate(time.Millisecond)
	out := make([]events.Alert, n)
	for i := range out {
		c := fmt.Sprintf("app-%d", i%canaries)
		out[i] = events.Alert{
			Labels: map[string]string{
				"alertname": events.AlertName, "namespace": "reliability", "canary": c,
				"severity": "notice", "phase": "Progressing", "event": fmt.Sprintf("%s-%d/1", run, i),
			},
			Annotations: map[string]string{
				"message": fmt.Sprintf("Advance %s.reliability canary weight %d", c, i), "event_type": "Normal",
				"summary": "Flagger: advance", "checksum": "7b9d6c4f5",
			},
			StartsAt: now,
			EndsAt:   now.Add(10 * time.Minute), // the test never sees them resolve
		}
	}
	return out
}

// deliveries counts what the event consumer got per Idempotency-Key.
func deliveries(s *stack.Stack) (perKey map[string]int, total int) {
	perKey = map[string]int{}
	for _, m := range s.Events.Messages() {
		perKey[m.IdempotencyKey]++
		total++
	}
	return perKey, total
}

// settled waits until the consumer holds want distinct events, then until
// nothing more arrives for quiet (longer than every retry and peer wait),
// and returns the counts.
func settled(t *testing.T, s *stack.Stack, want int, timeout, quiet time.Duration) (map[string]int, int) {
	t.Helper()
	harness.Eventually(t, timeout, func() string {
		if perKey, total := deliveries(s); len(perKey) < want {
			return fmt.Sprintf("%d distinct events of %d delivered (%d requests)", len(perKey), want, total)
		}
		return ""
	})
	for {
		_, before := deliveries(s)
		time.Sleep(quiet)
		if perKey, total := deliveries(s); total == before {
			return perKey, total
		}
	}
}

// copies is the histogram of deliveries per event: copies[k] events
// arrived k times.
func copies(perKey map[string]int) map[int]int {
	h := map[int]int{}
	for _, n := range perKey {
		h[n]++
	}
	return h
}
