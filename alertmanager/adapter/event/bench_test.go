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
				if res := m.Map(msg, now); len(res.Events) != size {
					b.Fatal(len(res.Events))
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
