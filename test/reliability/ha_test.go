package reliability

import (
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// burst is how many per-step events each HA case posts: a rollout of a few
// dozen canaries' steps at once.
const burst = 200

// TestHAPeers posts one burst of per-step events to both peers of an
// Alertmanager HA pair in front of two adapter replicas, as Prometheus and
// flagger-exporter do, through a balancer that alternates replicas per
// request. With the replicas listing each other (cluster.peers) every
// event reaches the consumer exactly once, whether the peers gossip or are
// partitioned and each notifies everything. Replicas that do not know each
// other let a partition's copies through, at most one per peer, each
// under its original's Idempotency-Key. The full-rollout proof with the
// real Flagger is the conformance suite, which runs this HA pipeline.
func TestHAPeers(t *testing.T) {
	for _, c := range []struct {
		name      string
		opts      stack.Options
		maxCopies int
	}{
		{"gossiping", stack.Options{HA: true}, 1},
		{"partitioned", stack.Options{HA: true, Partitioned: true}, 1},
		{"partitioned, separate adapters", stack.Options{HA: true, Partitioned: true, SeparateAdapters: true}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := stack.Start(t, c.opts)
			start := time.Now()
			if err := s.PostAlerts(steps(c.name, burst, 20)...); err != nil {
				t.Fatal(err)
			}
			perKey, total := settled(t, s, burst, 60*time.Second, 5*time.Second)
			h := copies(perKey)
			var received, skipped float64
			for _, a := range s.Adapters {
				received += counter(t, a.URL, "flagger_event_adapter_alerts_received_total", map[string]string{"status": "firing"})
				skipped += counter(t, a.URL, "flagger_event_adapter_duplicates_skipped_total", map[string]string{"target": "event-consumer"})
			}
			t.Logf("%s: %d events; the adapters received %v alerts from the peers and skipped %v as duplicates; %d deliveries, copies per event %v, in %v",
				c.name, len(perKey), received, skipped, total, h, time.Since(start).Round(time.Millisecond))
			if len(perKey) != burst {
				t.Errorf("%d distinct events delivered, want %d", len(perKey), burst)
			}
			if _, ok := perKey[""]; ok {
				t.Error("a delivery without an Idempotency-Key")
			}
			for n, events := range h {
				if n > c.maxCopies {
					t.Errorf("%d events arrived %d times, at most %d expected", events, n, c.maxCopies)
				}
			}
			if c.opts.Partitioned && received < 2*burst {
				t.Errorf("partitioned peers sent %v alerts, want each of the %d from both", received, burst)
			}
			if bad := s.Events.Bad(); len(bad) > 0 {
				t.Errorf("consumer refused requests: %v", bad)
			}
		})
	}
}
