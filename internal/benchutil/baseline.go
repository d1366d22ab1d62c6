// Package benchutil holds the baselines the exporter's benchmarks measure
// against, so the in-process benchmark and the scale harness use the same
// ones: client_golang exposing the same series from a plain registry, and
// writing the same bytes from memory.
package benchutil

import (
	"bytes"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// RegistryFromText builds a plain client_golang registry holding exactly the
// gauge and counter series of a text exposition, with the same HELP. Other
// types (a few self-metric histograms and summaries) are left out: they are a
// rounding error next to the canary series being compared.
func RegistryFromText(text []byte) (*prometheus.Registry, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	for name, mf := range fams {
		if len(mf.Metric) == 0 {
			continue
		}
		var labels []string
		for _, lp := range mf.Metric[0].Label {
			labels = append(labels, lp.GetName())
		}
		switch {
		case mf.Metric[0].Counter != nil:
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: mf.GetHelp()}, labels)
			reg.MustRegister(vec)
			for _, m := range mf.Metric {
				vec.WithLabelValues(labelValues(m.Label)...).Add(m.Counter.GetValue())
			}
		case mf.Metric[0].Gauge != nil:
			vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: mf.GetHelp()}, labels)
			reg.MustRegister(vec)
			for _, m := range mf.Metric {
				vec.WithLabelValues(labelValues(m.Label)...).Set(m.Gauge.GetValue())
			}
		}
	}
	return reg, nil
}

func labelValues[T interface{ GetValue() string }](ls []T) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.GetValue()
	}
	return out
}

// ScrapeRegistry is what promhttp does for a scrape, minus HTTP: gather and
// encode as text.
func ScrapeRegistry(reg prometheus.Gatherer, w io.Writer) error {
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// ChunkSize is the size of the writes WriteRaw makes; the exporter's writer
// flushes at the same size.
const ChunkSize = 64 << 10

// WriteRaw writes already rendered bytes in ChunkSize pieces: the floor no
// exporter can beat.
func WriteRaw(text []byte, w io.Writer) error {
	for len(text) > 0 {
		n := min(ChunkSize, len(text))
		if _, err := w.Write(text[:n]); err != nil {
			return err
		}
		text = text[n:]
	}
	return nil
}

// Socket stands in for the connection a scrape is written to: it copies
// every byte, as a write to a socket does, into a reused buffer.
type Socket struct{ buf []byte }

func (s *Socket) Write(p []byte) (int, error) {
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	return copy(s.buf[:len(p)], p), nil
}
