package exposition

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/benchutil"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// fleet is n canaries spread over 200 namespaces with realistic status,
// sorted by namespace as the store keeps them.
func fleet(n int) []*Canary {
	byNS := make([][]*Canary, 200)
	facts, progressing := benchutil.Fleet(n)
	for i, f := range facts {
		var tr [NumTransitionPhases]uint64
		tr[flagger.PhaseProgressing] = progressing[i]
		byNS[i%200] = append(byNS[i%200], Prepare(f, tr))
	}
	cs := make([]*Canary, 0, n)
	for _, ns := range byNS {
		cs = append(cs, ns...)
	}
	return cs
}

// BenchmarkScrape writes the canary families for 1k and 10k canaries into a
// socket-like writer and reports, measured in the same run, the cost relative
// to client_golang exposing the same series from a plain registry
// (x_client_golang, target ≤ 0.25) and to writing the same bytes from memory
// (x_raw).
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("canaries="+strconv.Itoa(n), func(b *testing.B) {
			cs := fleet(n)
			var text bytes.Buffer
			if err := Write(&text, cs); err != nil {
				b.Fatal(err)
			}
			reg, err := benchutil.RegistryFromText(text.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			sink := &benchutil.Socket{}
			baseline := benchutil.BestOf(3, func() { benchutil.ScrapeRegistry(reg, sink) })
			baselineAlloc := benchutil.AllocatedBy(func() { benchutil.ScrapeRegistry(reg, sink) })
			raw := benchutil.BestOf(50, func() { benchutil.WriteRaw(text.Bytes(), sink) })

			b.SetBytes(int64(text.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := Write(sink, cs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(bytes.Count(text.Bytes(), []byte("\n"))-2*len(Families)), "series")
			b.ReportMetric(ours/float64(baseline.Nanoseconds()), "x_client_golang")
			b.ReportMetric(ours/float64(raw.Nanoseconds()), "x_raw")
			b.ReportMetric(float64(baselineAlloc), "client_golang_B/op")
		})
	}
}
