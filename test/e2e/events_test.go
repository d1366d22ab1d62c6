package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// event is a Flagger event-webhook call as the consumer received it.
type event struct {
	stack.Event
	seq int64
}

func (e event) alert() string { return e.Metadata["alertname"] }

// eventsOf decodes what the event consumer received about one canary.
func eventsOf(t *testing.T, s *stack.Stack, namespace, name string) []event {
	t.Helper()
	var out []event
	for _, m := range s.Events.Messages() {
		e, err := stack.DecodeEvent(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		if e.Namespace == namespace && e.Name == name {
			out = append(out, event{Event: e, seq: m.Seq})
		}
	}
	return out
}

// wantEvent is one step as Flagger would report it to its event webhook.
type wantEvent struct {
	alert, phase, eventType string
	message                 string // exact, or a substring when it starts with "…"
}

func (w wantEvent) String() string { return fmt.Sprintf("%s/%s/%s", w.alert, w.phase, w.eventType) }

// checksum is Flagger's: the decimal FNV-32a hash of the revision spelt in
// apimachinery's SafeEncodeString alphabet, which the mixin's alerts copy
// from flagger_canary_revision_info and the adapter sends as is.
var checksum = regexp.MustCompile(`^[4-9bcdf]{1,10}$`)

// lifecycle are the mixin's lifecycle alerts: the adapter sends one event
// when each fires and none when it resolves (the next step has its own).
var lifecycle = map[string]bool{initialized: true, newRevision: true, waiting: true, promoted: true, failed: true}

// checkEvents: the consumer got one event per step, in order of arrival,
// with Flagger's body, type and message, and nothing when an alert
// resolves. canary_rollback and FlaggerCanaryRolledBack send none (the
// FlaggerCanaryFailed notice is Flagger's rollback event).
func checkEvents(t *testing.T, s *stack.Stack, namespace, name string, want []wantEvent, since time.Time) {
	t.Helper()
	seen := map[string]bool{}
	open := map[string]*event{} // alertname -> its firing event, until resolved
	var steps []event
	for _, e := range eventsOf(t, s, namespace, name) {
		// Every event of a revision shares Flagger's checksum; an event is
		// one alert's firing or resolution at one time.
		id := e.alert() + "/" + e.Metadata["eventType"] + "/" + e.Metadata["timestamp"]
		if seen[id] {
			t.Errorf("%s/%s: event delivered twice: %+v", namespace, name, e.Event)
		}
		seen[id] = true
		if !checksum.MatchString(e.Checksum) {
			t.Errorf("%s/%s: checksum %q", namespace, name, e.Checksum)
		}
		ms, err := strconv.ParseInt(e.Metadata["timestamp"], 10, 64)
		if ts := time.UnixMilli(ms); err != nil || ts.Before(since) || ts.After(time.Now()) {
			t.Errorf("%s/%s: timestamp %q is not Unix milliseconds within the test", namespace, name, e.Metadata["timestamp"])
		}
		if e.alert() == flaggerRollbk {
			t.Errorf("%s/%s: canary_rollback reached the event consumer: %+v", namespace, name, e.Event)
			continue
		}
		// Resolved alerts send no event by default (the adapter's
		// forward_resolved_*), so a problem alert's second event would be
		// a resolution the consumer should not see.
		if f := open[e.alert()]; f != nil && !lifecycle[e.alert()] {
			t.Errorf("%s/%s: event %+v follows %+v for the same problem alert: a resolution, which the adapter does not send by default", namespace, name, e.Event, f.Event)
			continue
		}
		open[e.alert()] = &e
		steps = append(steps, e)
	}

	var got, exp []string
	for i, e := range steps {
		got = append(got, fmt.Sprintf("%s/%s/%s", e.alert(), e.Phase, e.Metadata["eventType"]))
		if i >= len(want) {
			continue
		}
		w := want[i]
		msg := e.Metadata["eventMessage"]
		if sub, ok := strings.CutPrefix(w.message, "…"); ok && !strings.Contains(msg, sub) || !ok && msg != w.message {
			t.Errorf("%s/%s: %s event message %q, want %q", namespace, name, e.alert(), msg, w.message)
		}
	}
	for _, w := range want {
		exp = append(exp, w.String())
	}
	if strings.Join(got, " ") != strings.Join(exp, " ") {
		t.Errorf("%s/%s: events (alertname/phase/eventType, by arrival)\n got %v\nwant %v", namespace, name, got, exp)
	}
}
