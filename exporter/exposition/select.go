package exposition

import (
	"errors"
	"fmt"
	"io"
	"regexp"
)

// A Selection is the canary families a scrape writes, in exposition order.
type Selection []*Family

// All is every family.
var All = func() Selection {
	s := make(Selection, len(Families))
	for i := range Families {
		s[i] = &Families[i]
	}
	return s
}()

// Select keeps the families kube-state-metrics' convention picks: allow and
// deny are regular expressions matched against the whole family name
// (--metric-allowlist, --metric-denylist); with an allowlist only matching
// families are written, with a denylist all but the matching ones. Both at
// once is an error, as is an expression that matches no family (a typo
// would otherwise silently keep or drop everything).
func Select(allow, deny []string) (Selection, error) {
	if len(allow) > 0 && len(deny) > 0 {
		return nil, errors.New("--metric-allowlist and --metric-denylist are mutually exclusive")
	}
	patterns, keep, flag := allow, true, "--metric-allowlist"
	if len(deny) > 0 {
		patterns, keep, flag = deny, false, "--metric-denylist"
	}
	if len(patterns) == 0 {
		return All, nil
	}
	matched := make([]bool, len(Families))
	for _, p := range patterns {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		any := false
		for i := range Families {
			if re.MatchString(Families[i].Name) {
				matched[i], any = true, true
			}
		}
		if !any {
			return nil, fmt.Errorf("%s: %q matches no canary family (flagger_canary_*, see docs/exporter.md)", flag, p)
		}
	}
	var s Selection
	for i := range Families {
		if matched[i] == keep {
			s = append(s, &Families[i])
		}
	}
	return s, nil
}

// Write writes the selected families for the canaries, as Write does.
func (s Selection) Write(out io.Writer, canaries []*Canary) error {
	w := &writer{out: out, buf: make([]byte, 0, flushAt+4096)}
	for _, f := range s {
		w.header(f)
		f.write(w, canaries)
		if w.err != nil {
			return w.err
		}
	}
	w.flush()
	return w.err
}
