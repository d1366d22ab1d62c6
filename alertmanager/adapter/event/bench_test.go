package event_test

import (
	"strconv"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

// BenchmarkAdapterDecodeAndMap is the adapter's own work per notification,
// without HTTP: how much of the end-to-end cost is decoding and mapping.
func BenchmarkAdapterDecodeAndMap(b *testing.B) {
	m := mustCompile(b, event.Rules{})
	for _, size := range []int{1, 100, 1000} {
		body := HugeGroup(size)
		b.Run("group="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				msg, err := payload.Decode(body)
				if err != nil {
					b.Fatal(err)
				}
				// Every other alert of HugeGroup is a resolved problem, which
				// by default produces no event (forward_resolved_problems).
				if res := m.Map(msg, now); len(res.Events)+res.SkippedResolvedProblems != size {
					b.Fatal(len(res.Events), res.SkippedResolvedProblems)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
