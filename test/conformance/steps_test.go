package conformance_test

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// spamBurst is client-go's event spam filter as Flagger's recorder runs it
// (tools/record events_cache.go, defaultSpamBurst): 25 Events per object and
// type, then one more every 5 minutes, which a scenario never lasts.
// Flagger posts to its webhook regardless, so what Kubernetes keeps, and so
// what the exporter can relay, is the first 25 of each type.
const spamBurst = 25

// step is one per-step event: what a consumer tells steps apart by. For
// Flagger's, seen holds the phases of all its posts for the canary.
type step struct {
	message, eventType, phase string
	seen                      []string
}

// plausiblePhase: the exporter reads the phase when the Event arrives, from
// another watch than the Events': it may already be a later phase than the
// one Flagger had in hand (Promoting and Finalising get no posts of their
// own), or still one Flagger posted in before.
func plausiblePhase(ours string, f step) bool {
	o, ok := flagger.ParsePhase(ours)
	p, _ := flagger.ParsePhase(f.phase)
	return ok && (o >= p || slices.Contains(f.seen, ours))
}

// flaggerSteps: Flagger's per-step posts in the order it sent them, the
// ones Kubernetes recorded as Events (the first spamBurst of each type,
// lifecycle events included in the count), and all its posts by type.
func flaggerSteps(posts []stack.Message, namespace, name string) (posted, recorded []step, perType map[string]int) {
	var all []step
	for _, m := range posts {
		if e, err := stack.DecodeEvent(m.Body); err == nil && e.Namespace == namespace && e.Name == name {
			all = append(all, step{message: e.Metadata["eventMessage"], eventType: e.Metadata["eventType"], phase: e.Phase})
		}
	}
	perType = map[string]int{}
	for _, s := range all {
		perType[s.eventType]++
		if flagger.IsLifecycleMessage(s.message) {
			continue
		}
		for _, a := range all {
			s.seen = append(s.seen, a.phase)
		}
		posted = append(posted, s)
		if perType[s.eventType] <= spamBurst {
			recorded = append(recorded, s)
		}
	}
	return posted, recorded, perType
}

// ourSteps: the per-step events flagger-event-adapter delivered, in the
// order the exporter saw them (their timestamp, in milliseconds, is when
// the exporter relayed the Event; Alertmanager flushes groups in parallel,
// so arrival order means nothing).
func ourSteps(posts []stack.Message, namespace, name string) []step {
	type stamped struct {
		at int64
		s  step
	}
	var out []stamped
	for _, m := range posts {
		e, err := stack.DecodeEvent(m.Body)
		if err != nil || e.Namespace != namespace || e.Name != name || flagger.IsLifecycleMessage(e.Metadata["eventMessage"]) {
			continue
		}
		at, _ := strconv.ParseInt(e.Metadata["timestamp"], 10, 64)
		out = append(out, stamped{at, step{message: e.Metadata["eventMessage"], eventType: e.Metadata["eventType"], phase: e.Phase}})
	}
	slices.SortStableFunc(out, func(a, b stamped) int { return cmp.Compare(a.at, b.at) })
	steps := make([]step, len(out))
	for i, o := range out {
		steps[i] = o.s
	}
	return steps
}

// Intended differences of the per-step comparison.
const (
	whySpam       = "client-go's spam filter in Flagger's recorder keeps the first %d Events of a type per canary; Flagger posted %d %s events, %d of them per-step, of which Kubernetes kept %d"
	whyTrimmed    = "%d end in a newline in Flagger's post (a hook's error body); flagger-event-adapter trims the whitespace around every message"
	whyStepPhases = "the phase is the canary's when the exporter saw the Event: Flagger's, one it wrote after, or one it posted in before"
)

// steps holds the per-step events the exporter relayed from Flagger's
// Kubernetes Events (FlaggerCanaryStep, through the real Alertmanager and
// flagger-event-adapter) to the per-step events Flagger posted to its own
// event webhook: the same messages and types, in the same order, for every
// one Kubernetes recorded. One row per scenario.
func (r *run) steps() {
	r.t.Helper()
	var posted, recorded, ours []step
	var perType map[string]int
	harness.Eventually(r.t, 45*time.Second, func() string {
		posted, recorded, perType = flaggerSteps(r.f.Events.Messages(), r.ns, canaryName)
		ours = ourSteps(r.s.Events.Messages(), r.ns, canaryName)
		if len(ours) < len(recorded) {
			return fmt.Sprintf("%s/%s: %d per-step events from the adapter so far, Kubernetes recorded %d of Flagger's:\n ours    %v\n Flagger %v", r.ns, canaryName, len(ours), len(recorded), ours, recorded)
		}
		return ""
	})
	var msgDiffs, phaseDiffs []string
	trimmed := 0
	for i := range max(len(ours), len(recorded)) {
		switch {
		case i >= len(ours):
			msgDiffs = append(msgDiffs, fmt.Sprintf("missing %+v", recorded[i]))
		case i >= len(recorded):
			msgDiffs = append(msgDiffs, fmt.Sprintf("extra %+v", ours[i]))
		case ours[i].message != strings.TrimSpace(recorded[i].message) || ours[i].eventType != recorded[i].eventType:
			msgDiffs = append(msgDiffs, fmt.Sprintf("#%d: adapter %+v, Flagger %+v", i+1, ours[i], recorded[i]))
		default:
			if ours[i].message != recorded[i].message {
				trimmed++
			}
			if !plausiblePhase(ours[i].phase, recorded[i]) {
				phaseDiffs = append(phaseDiffs, fmt.Sprintf("%q: phase %s, Flagger posted it in %s (all its posts: %v)", ours[i].message, ours[i].phase, recorded[i].phase, recorded[i].seen))
			}
		}
	}
	if len(msgDiffs)+len(phaseDiffs) > 0 {
		r.t.Errorf("%s/%s: per-step events differ from Flagger's:\n %s", r.ns, canaryName, strings.Join(append(msgDiffs, phaseDiffs...), "\n "))
		return
	}
	var why []string
	for _, typ := range []string{"Normal", "Warning"} {
		if p, k := countType(posted, typ), countType(recorded, typ); p != k {
			why = append(why, fmt.Sprintf(whySpam, spamBurst, perType[typ], typ, p, k))
		}
	}
	if trimmed > 0 {
		why = append(why, fmt.Sprintf(whyTrimmed, trimmed))
	}
	// Whether a phase is already the next one depends on timing, so the
	// verdict states the rule rather than the count.
	verdict := "same messages, types and order; " + whyStepPhases
	if len(why) > 0 {
		verdict += "; intended difference: " + strings.Join(why, "; ")
	}
	// How many steps Flagger posts depends on how many ticks a gate or hold
	// lasts, so the counts go to the log, not the table.
	r.t.Logf("%s/%s: per-step events: Flagger posted %d, Kubernetes kept %d, the adapter delivered %d (%d Normal, %d Warning), in order: %s",
		r.ns, canaryName, len(posted), len(recorded), len(ours), countType(ours, "Normal"), countType(ours, "Warning"), firstAndLast(ours))
	r.sc.add(row{"event steps", "event webhook: per-step events", "every one posted", "every one delivered, in order", verdict})
}

func countType(steps []step, typ string) int {
	n := 0
	for _, s := range steps {
		if s.eventType == typ {
			n++
		}
	}
	return n
}

// firstAndLast names the first and last step, for the table.
func firstAndLast(s []step) string {
	switch len(s) {
	case 0:
		return "none"
	case 1:
		return s[0].message
	}
	return s[0].message + " … " + s[len(s)-1].message
}
