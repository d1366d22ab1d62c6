package conformance_test

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// hookSuffix is the webhook name Flagger appends to its "waiting for
// approval" events; the exporter does not know webhook names.
var hookSuffix = regexp.MustCompile(`(waiting for (promotion )?approval) \S+$`)

// Intended differences of the notifications comparison.
const (
	whyHookName  = "Flagger appends the gate webhook's name, which no exporter series carries"
	whyHaltPhase = "Flagger posts the Halt event with the phase the canary had before the gate; the notice announces the phase it holds, %s"
)

// notification is one lifecycle event: what the consumer needs to tell the
// step apart.
type notification struct{ message, eventType, phase string }

func lifecycleEvents(posts []stack.Message, namespace, name string) []notification {
	var out []notification
	for _, m := range posts {
		e, err := stack.DecodeEvent(m.Body)
		if err != nil || e.Namespace != namespace || e.Name != name || !flagger.IsLifecycleMessage(e.Metadata["eventMessage"]) {
			continue
		}
		out = append(out, notification{e.Metadata["eventMessage"], e.Metadata["eventType"], e.Phase})
	}
	return out
}

// notifications holds the events flagger-event-adapter delivered from the
// mixin's notices (through the stack's real Prometheus and Alertmanager) to
// the lifecycle events the real Flagger posted to its own event webhook in
// the same run: one each, in the same order, with the same message, type
// and phase, or exactly the intended differences.
func (r *run) notifications() {
	r.t.Helper()
	r.notified = true
	var flagger, ours []notification
	harness.Eventually(r.t, 45*time.Second, func() string {
		flagger = lifecycleEvents(r.f.Events.Messages(), r.ns, canaryName)
		ours = lifecycleEvents(r.s.Events.Messages(), r.ns, canaryName)
		if len(ours) < len(flagger) {
			return fmt.Sprintf("%s/%s: %d lifecycle events from the adapter so far, Flagger posted %d:\n ours    %v\n Flagger %v\n all ours %s", r.ns, canaryName, len(ours), len(flagger), ours, flagger, allEvents(r.s.Events.Messages(), r.ns))
		}
		return ""
	})
	if len(ours) != len(flagger) {
		r.t.Errorf("%s/%s: the adapter delivered %d lifecycle events, Flagger posted %d:\n ours    %v\n Flagger %v", r.ns, canaryName, len(ours), len(flagger), ours, flagger)
		return
	}
	for i, f := range flagger {
		o := ours[i]
		var why []string
		want := f
		if m := hookSuffix.ReplaceAllString(f.message, "$1"); m != f.message {
			want.message = m
			why = append(why, whyHookName)
		}
		if strings.HasPrefix(f.message, "Halt ") && o.phase != f.phase {
			want.phase = o.phase
			why = append(why, fmt.Sprintf(whyHaltPhase, o.phase))
		}
		if o != want {
			r.t.Errorf("%s/%s: lifecycle event %d: adapter %+v, Flagger %+v", r.ns, canaryName, i+1, o, f)
		}
		verdict := "same"
		if len(why) > 0 {
			verdict = "intended difference: " + strings.Join(why, "; ")
		}
		r.sc.add(row{fmt.Sprintf("event %d", i+1), "event webhook: " + o.message,
			f.eventType + ", phase " + f.phase, o.eventType + ", phase " + o.phase, verdict})
	}
	r.steps()
	r.chats()
}

// allEvents lists every event the adapter delivered for the namespace, for
// a failure message.
func allEvents(posts []stack.Message, namespace string) string {
	var out []string
	for _, m := range posts {
		if e, err := stack.DecodeEvent(m.Body); err == nil && e.Namespace == namespace {
			out = append(out, fmt.Sprintf("%s/%s/%s %q", e.Name, e.Phase, e.Metadata["eventType"], e.Metadata["eventMessage"]))
		}
	}
	return strings.Join(out, "; ")
}
