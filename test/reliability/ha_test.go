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
// flagger-exporter do. Gossiping peers: every event reaches the consumer
// exactly once. Partitioned peers (each notifies as if alone): none is
// lost, none arrives more than once per peer, and every copy carries the
// original's Idempotency-Key, so a consumer that keeps the keys sees each
// event once. The full-rollout proof with the real Flagger is the
// conformance suite, which runs this HA pipeline.
func TestHAPeers(t *testing.T) {
	for _, c := range []struct {
		name        string
		partitioned bool
	}{{"gossiping", false}, {"partitioned", true}} {
		t.Run(c.name, func(t *testing.T) {
			s := stack.Start(t, stack.Options{HA: true, Partitioned: c.partitioned})
			start := time.Now()
			if err := s.PostAlerts(steps(c.name, burst, 20)...); err != nil {
				t.Fatal(err)
			}
			perKey, total := settled(t, s, burst, 60*time.Second, 5*time.Second)
			h := copies(perKey)
			t.Logf("%s: %d events, %d deliveries, copies per event %v, all in %v", c.name, len(perKey), total, h, time.Since(start).Round(time.Millisecond))
			if len(perKey) != burst {
				t.Errorf("%d distinct events delivered, want %d", len(perKey), burst)
			}
			if _, ok := perKey[""]; ok {
				t.Error("a delivery without an Idempotency-Key")
			}
			limit := 1 // gossip: one notification per event in the cluster
			if c.partitioned {
				limit = len(s.AlertmanagerURLs) // each side notifies once
			}
			for n, events := range h {
				if n > limit {
					t.Errorf("%d events arrived %d times, at most %d expected", events, n, limit)
				}
			}
			if bad := s.Events.Bad(); len(bad) > 0 {
				t.Errorf("consumer refused requests: %v", bad)
			}
		})
	}
}
