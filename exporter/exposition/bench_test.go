package exposition

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
)

// fleet is n canaries spread over 200 namespaces with realistic status.
func fleet(n int) []*Canary {
	cs := make([]*Canary, 0, n)
	for i := 0; i < n; i++ {
		f := facts(fmt.Sprintf("team-%03d", i%200), fmt.Sprintf("service-%05d", i), fmt.Sprintf("service-%05d", i), canary.Phase(i%int(canary.NumPhases)))
		var tr [NumTransitionPhases]uint64
		tr[canary.PhaseProgressing] = uint64(i % 7)
		cs = append(cs, Prepare(f, tr))
	}
	sortFleet(cs)
	return cs
}

func sortFleet(cs []*Canary) {
	// Insertion by namespace keeps the benchmark free of a sort dependency
	// and is fast enough for 10k.
	byNS := map[string][]*Canary{}
	var order []string
	for _, c := range cs {
		if _, ok := byNS[c.Facts.Namespace]; !ok {
			order = append(order, c.Facts.Namespace)
		}
		byNS[c.Facts.Namespace] = append(byNS[c.Facts.Namespace], c)
	}
	cs = cs[:0]
	for _, ns := range order {
		cs = append(cs, byNS[ns]...)
	}
}

// clientGolangRegistry exposes the same series from a plain client_golang
// registry: the baseline the exporter is measured against.
func clientGolangRegistry(cs []*Canary) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	var buf bytes.Buffer
	if err := Write(&buf, cs); err != nil {
		panic(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		panic(err)
	}
	for _, f := range Families {
		mf, ok := fams[f.Name]
		if !ok {
			continue
		}
		var labels []string
		for _, lp := range mf.Metric[0].Label {
			labels = append(labels, lp.GetName())
		}
		if f.Type == "counter" {
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: f.Name, Help: f.Help}, labels)
			reg.MustRegister(vec)
			for _, m := range mf.Metric {
				vec.WithLabelValues(values(m.Label)...).Add(m.Counter.GetValue())
			}
			continue
		}
		vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: f.Name, Help: f.Help}, labels)
		reg.MustRegister(vec)
		for _, m := range mf.Metric {
			vec.WithLabelValues(values(m.Label)...).Set(m.Gauge.GetValue())
		}
	}
	return reg
}

func values[T interface{ GetValue() string }](ls []T) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.GetValue()
	}
	return out
}

func scrapeClientGolang(reg *prometheus.Registry, w io.Writer) {
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			panic(err)
		}
	}
}

// socket stands in for the connection a scrape is written to: it copies
// every byte, as a write to a socket does, into a reused buffer.
type socket struct{ buf []byte }

func (s *socket) Write(p []byte) (int, error) {
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	return copy(s.buf[:len(p)], p), nil
}

// writeRaw writes already rendered bytes in the same 64 KiB chunks: the
// floor no exporter can beat.
func writeRaw(text []byte, w io.Writer) {
	for len(text) > 0 {
		n := min(flushAt, len(text))
		w.Write(text[:n])
		text = text[n:]
	}
}

// BenchmarkScrape writes the canary families for 1k and 10k canaries and
// reports, measured in the same run, the cost relative to client_golang
// exposing the same series (x_client_golang, target ≤ 0.25) and to writing
// the same bytes from memory (x_raw, target ≤ 3).
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("canaries="+strconv.Itoa(n), func(b *testing.B) {
			cs := fleet(n)
			var text bytes.Buffer
			if err := Write(&text, cs); err != nil {
				b.Fatal(err)
			}
			reg := clientGolangRegistry(cs)
			sink := &socket{}
			// testing.Benchmark cannot nest inside a benchmark, so the
			// baselines are timed directly: best of a few runs each.
			baseline := bestOf(3, func() { scrapeClientGolang(reg, sink) })
			raw := bestOf(50, func() { writeRaw(text.Bytes(), sink) })
			baselineAlloc := allocatedBy(func() { scrapeClientGolang(reg, sink) })
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

func bestOf(n int, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for i := 0; i < n; i++ {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
