package exposition

import (
	"io"
	"math"
	"strconv"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// flushAt is the buffer size at which the writer hands bytes to the
// underlying io.Writer: large enough to amortise the calls, small enough to
// keep a 40 MB scrape from being held in memory at once.
const flushAt = 64 << 10

// Write writes every canary family for the canaries, which must be sorted by
// namespace (flagger_canary_total counts runs of equal namespaces). Each
// family's HELP and TYPE come once, followed by all of its series.
func Write(out io.Writer, canaries []*Canary) error { return All.Write(out, canaries) }

func writeStatus(w *writer, cs []*Canary) {
	for _, c := range cs {
		w.begin()
		w.buf = append(w.buf, c.name...)
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, c.id...)
		w.end(c.Facts.FlaggerStatus())
	}
}

func writeWeight(w *writer, cs []*Canary) {
	for _, c := range cs {
		if c.Facts.TargetName == "" {
			continue // no workload to name; counted as a decode warning
		}
		w.begin()
		w.buf = append(w.buf, `workload="`...)
		w.buf = append(w.buf, c.target...)
		w.buf = append(w.buf, `-primary",`...)
		w.buf = append(w.buf, c.id...)
		w.end(canary.TotalWeight - c.weight)
		w.begin()
		w.buf = append(w.buf, `workload="`...)
		w.buf = append(w.buf, c.target...)
		w.buf = append(w.buf, `",`...)
		w.buf = append(w.buf, c.id...)
		w.end(c.weight)
	}
}

func writeTotal(w *writer, cs []*Canary) {
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && cs[j].Facts.Namespace == cs[i].Facts.Namespace {
			j++
		}
		w.begin()
		w.buf = appendLabel(w.buf, "namespace", cs[i].Facts.Namespace, false)
		w.end(float64(j - i))
		i = j
	}
}

func writeInfo(w *writer, cs []*Canary) {
	for _, c := range cs {
		w.begin()
		w.buf = append(w.buf, c.id...)
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, c.info...)
		w.end(1)
	}
}

// The last label pair of state-set and per-phase series never changes, so it
// is rendered once: `,phase="Progressing"`.
var (
	phaseLabels  = constLabels("phase", flagger.PhaseNames[:])
	statusLabels = constLabels("status", canary.ConditionStatuses[:])
)

func constLabels(name string, values []string) [][]byte {
	out := make([][]byte, len(values))
	for i, v := range values {
		out[i] = appendLabel(nil, name, v, true)
	}
	return out
}

func writePhase(w *writer, cs []*Canary) {
	for _, c := range cs {
		for p := range phaseLabels {
			w.labelled(c, phaseLabels[p], boolValue(flagger.Phase(p) == c.Facts.Phase))
		}
	}
}

func writePromoted(w *writer, cs []*Canary) {
	for _, c := range cs {
		if c.Facts.Promoted == canary.ConditionAbsent {
			continue
		}
		for i := range statusLabels {
			w.labelled(c, statusLabels[i], boolValue(canary.Condition(i+1) == c.Facts.Promoted))
		}
	}
}

var hookLabels = constLabels("type", canary.HookTypes[:])

// writeWebhooks writes a series for each webhook type a canary has.
func writeWebhooks(w *writer, cs []*Canary) {
	for _, c := range cs {
		for t, n := range c.Facts.Webhooks {
			if n > 0 {
				w.labelled(c, hookLabels[t], float64(n))
			}
		}
	}
}

func writeRevision(w *writer, cs []*Canary) {
	for _, c := range cs {
		w.labelled(c, c.sum, 1)
	}
}

func writeTransitions(w *writer, cs []*Canary) {
	for _, c := range cs {
		for p, n := range c.Transitions {
			w.labelled(c, phaseLabels[p], float64(n))
		}
	}
}

// gauge writes one series per canary with the value get returns, skipping
// canaries for which the value is absent.
func gauge(get func(*canary.Facts) float64) func(*writer, []*Canary) {
	return func(w *writer, cs []*Canary) {
		for _, c := range cs {
			v := get(&c.Facts)
			if canary.IsAbsent(v) {
				continue
			}
			w.begin()
			w.buf = append(w.buf, c.id...)
			w.end(v)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type writer struct {
	out  io.Writer
	buf  []byte
	name string // the family being written
	err  error
}

func (w *writer) header(f *Family) {
	w.name = f.Name
	w.buf = append(w.buf, "# HELP "...)
	w.buf = append(w.buf, f.Name...)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, f.Help...)
	w.buf = append(w.buf, "\n# TYPE "...)
	w.buf = append(w.buf, f.Name...)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, f.Type...)
	w.buf = append(w.buf, '\n')
}

// begin starts a series of the current family: `name{`.
func (w *writer) begin() {
	w.buf = append(w.buf, w.name...)
	w.buf = append(w.buf, '{')
}

// end closes the label set, writes the value and flushes when the buffer is
// full.
func (w *writer) end(v float64) {
	w.buf = append(w.buf, '}', ' ')
	w.buf = appendValue(w.buf, v)
	w.buf = append(w.buf, '\n')
	if len(w.buf) >= flushAt {
		w.flush()
	}
}

// labelled writes a series with the canary's labels and one more, rendered
// pair.
func (w *writer) labelled(c *Canary, pair []byte, v float64) {
	w.begin()
	w.buf = append(w.buf, c.id...)
	w.buf = append(w.buf, pair...)
	w.end(v)
}

func (w *writer) flush() {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.out.Write(w.buf)
	}
	w.buf = w.buf[:0]
}

// appendValue formats integers (nearly every value) without the float path.
func appendValue(b []byte, v float64) []byte {
	switch v {
	case 0:
		return append(b, '0')
	case 1:
		return append(b, '1')
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
