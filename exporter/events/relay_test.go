package events

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// canaries stands in for the store; the relay reads it from the informer's
// goroutine and the scrape's.
type canaries struct {
	mu sync.Mutex
	m  map[string]canary.Facts
}

func (c *canaries) Lookup(ns, name string) (canary.Facts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[ns+"/"+name]
	return f, ok
}

func (c *canaries) delete(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

type sender struct {
	mu     sync.Mutex
	alerts []Alert
}

func (s *sender) Send(a Alert) {
	s.mu.Lock()
	s.alerts = append(s.alerts, a)
	s.mu.Unlock()
}

func (s *sender) got() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Alert(nil), s.alerts...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A unit test on client-go's fake client; the same path against a real API
// server and the real Flagger is test/exporter and test/conformance.
func TestRelay(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 5, 0, 0, time.UTC)
	old := flaggerEvent("e-old", "Advance podinfo.test canary weight 10", 1) // 4.5 minutes before now
	old.Object["lastTimestamp"] = "2026-12-02T10:00:30Z"
	recent := flaggerEvent("e-recent", "Starting canary analysis for podinfo.test", 1)
	recent.Object["lastTimestamp"] = "2026-12-02T10:04:30Z"
	other := flaggerEvent("e-other", "Advance other.test canary weight 10", 1)
	other.Object["involvedObject"].(map[string]any)["name"] = "other" // not exported

	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{EventResource: "EventList"}, old, recent, other)
	facts := canary.Facts{Namespace: "test", Name: "podinfo", Phase: flagger.PhaseProgressing, Checksum: "758df7c9fc"}
	snd := &sender{}
	cans := &canaries{m: map[string]canary.Facts{"test/podinfo": facts}}
	reg := prometheus.NewRegistry()
	r, err := New(Config{
		Client: client, Canaries: cans, Sender: snd,
		Lifetime: time.Minute, Registerer: reg, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)

	// At start-up: the Event younger than the lifetime is (re)sent, with its
	// own time; the older one is not; the other canary's is ignored.
	eventually(t, "the recent Event", func() bool { return len(snd.got()) == 1 })
	eventually(t, "the ignored Event", func() bool { return testutil.ToFloat64(r.metrics.ignored) == 1 })
	a := snd.got()[0]
	if a.Labels["event"] != "e-recent/1" || a.Annotations["message"] != "Starting canary analysis for podinfo.test" || !a.StartsAt.Equal(now.Add(-30*time.Second)) {
		t.Errorf("start-up alert: %+v", a)
	}
	if testutil.ToFloat64(r.metrics.stale) != 1 {
		t.Errorf("stale = %v, want 1", testutil.ToFloat64(r.metrics.stale))
	}

	events := client.Resource(EventResource).Namespace("test")
	update := func(u *unstructured.Unstructured, edit func(map[string]any)) {
		t.Helper()
		u = u.DeepCopy()
		edit(u.Object)
		if _, err := events.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A new occurrence of an Event is a new step; an update that leaves the
	// count alone (a resync, a label change) is not.
	update(old, func(o map[string]any) { o["metadata"].(map[string]any)["labels"] = map[string]any{"x": "y"} })
	update(old, func(o map[string]any) {
		o["count"] = int64(2)
		o["lastTimestamp"] = "2026-12-02T10:05:00Z"
		o["type"] = "Warning"
		o["message"] = combinedPrefix + "Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic"
	})
	eventually(t, "the new occurrence", func() bool { return len(snd.got()) == 2 })
	a = snd.got()[1]
	want := Alert{
		Labels: map[string]string{"alertname": AlertName, "namespace": "test", "canary": "podinfo", "phase": "Progressing", "severity": DefaultSeverity, "event": "e-old/2"},
		Annotations: map[string]string{
			"message":    "Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic",
			"event_type": "Warning", "checksum": "758df7c9fc",
			"summary": "Flagger: Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic",
		},
		StartsAt: now, EndsAt: now.Add(time.Minute),
	}
	if !equalAlert(a, want) {
		t.Errorf("occurrence 2:\n got %+v\nwant %+v", a, want)
	}

	// A lifecycle event is neither sent nor the latest step (a notice
	// stands for it): the latest step stays the Warning above.
	life := flaggerEvent("e-life", "Promotion completed! Scaling down podinfo.test", 1)
	life.Object["lastTimestamp"] = "2026-12-02T10:06:00Z"
	if _, err := events.Create(ctx, life, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lifecycle Event observed", func() bool {
		return testutil.ToFloat64(r.metrics.observed.WithLabelValues("Normal")) == 3
	})
	if n := len(snd.got()); n != 2 {
		t.Errorf("%d alerts after a lifecycle Event, want 2", n)
	}
	// An old Event that arrives after the first list (a relist after a
	// long outage) is stale too: not announced as new, not the latest.
	late := flaggerEvent("e-late", "Advance podinfo.test canary weight 30", 1)
	late.Object["lastTimestamp"] = "2026-12-02T09:00:00Z"
	if _, err := events.Create(ctx, late, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the late Event counted stale", func() bool { return testutil.ToFloat64(r.metrics.stale) == 2 })
	if n := len(snd.got()); n != 2 {
		t.Errorf("%d alerts after a stale Event, want 2", n)
	}
	const metric = `
# HELP flagger_canary_last_step_timestamp_seconds Unix time of Flagger's latest per-step Kubernetes Event on the canary (every message it posts but the lifecycle ones: weight steps, failed checks, hook results, rollback reasons), with its type and message (at most 1024 bytes).
# TYPE flagger_canary_last_step_timestamp_seconds gauge
flagger_canary_last_step_timestamp_seconds{canary="podinfo",message="Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic",namespace="test",type="Warning"} 1.7962059e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(metric), "flagger_canary_last_step_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	// The canary goes, and its series with it.
	cans.delete("test/podinfo")
	if n, err := testutil.GatherAndCount(reg, "flagger_canary_last_step_timestamp_seconds"); err != nil || n != 0 {
		t.Errorf("after the canary went: %d series, %v", n, err)
	}
}

func equalAlert(a, b Alert) bool {
	return maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) && a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt)
}
