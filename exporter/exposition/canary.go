package exposition

import (
	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// NumTransitionPhases is the number of phases a transition can enter: the
// eleven Flagger phases (a canary cannot move into the empty phase).
const NumTransitionPhases = flagger.NumPhases - 1

// Canary is one canary ready to be written: its facts, the transition
// counters the store keeps for it, and its label pairs escaped once, when it
// changes, rather than at every scrape. A Canary is immutable once prepared,
// so a scrape can write a snapshot without holding any lock.
type Canary struct {
	Facts       canary.Facts
	Transitions [NumTransitionPhases]uint64

	id     []byte  // namespace="…",canary="…"
	name   []byte  // name="<target>" (Flagger's label for the target)
	target []byte  // the escaped target name, for the workload label
	info   []byte  // target_kind="…",target_name="…",provider="…",strategy="…"
	sum    []byte  // ,checksum="…"
	weight float64 // Facts.RouteWeight(), derived once
}

// Prepare escapes the facts' label values for writing.
func Prepare(f canary.Facts, transitions [NumTransitionPhases]uint64) *Canary {
	c := &Canary{Facts: f, Transitions: transitions, weight: f.RouteWeight()}
	c.id = appendLabel(appendLabel(nil, "namespace", f.Namespace, false), "canary", f.Name, true)
	c.name = appendLabel(nil, "name", f.TargetName, false)
	c.target = appendEscaped(nil, f.TargetName)
	c.info = appendLabel(nil, "target_kind", f.TargetKind, false)
	c.info = appendLabel(c.info, "target_name", f.TargetName, true)
	c.info = appendLabel(c.info, "provider", f.Provider, true)
	c.info = appendLabel(c.info, "strategy", f.Strategy, true)
	c.sum = appendLabel(nil, "checksum", f.Checksum, true)
	return c
}

func appendLabel(b []byte, name, value string, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value)
	return append(b, '"')
}

// appendEscaped escapes a label value as the text format requires:
// backslash, double quote and line feed.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}
