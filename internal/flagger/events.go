package flagger

import "strings"

// lifecyclePrefixes open the messages of the events Flagger posts for the
// steps the mixin's lifecycle notices stand for (docs/flagger-notifications.md):
// initialisation, a new revision, the two approval gates, promotion and the
// rollback. Flagger posts many more (every weight step, hook result, failed
// check and retry): those are its per-step events.
var lifecyclePrefixes = [...]string{
	"Initialization done! ",
	"New revision detected! Scaling up ",
	"Promotion completed! ",
	"Canary failed! Scaling down ",
}

// lifecycleGates are the gate events, "Halt <name>.<ns> advancement waiting
// for approval <hook>" and its promotion twin; the traffic-increase gate is a
// per-step event (no notice stands for it).
var lifecycleGates = [...]string{
	" advancement waiting for approval",
	" advancement waiting for promotion approval",
}

// IsLifecycleMessage reports whether an event message of Flagger's is one a
// lifecycle notice of the mixin stands for. It reads Flagger's own wording,
// so it is table-tested against the templates in Flagger's source.
func IsLifecycleMessage(msg string) bool {
	for _, p := range lifecyclePrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(msg, "Halt "); ok {
		if sp := strings.IndexByte(rest, ' '); sp > 0 {
			for _, g := range lifecycleGates {
				if tail, ok := strings.CutPrefix(rest[sp:], g); ok && (tail == "" || tail[0] == ' ') {
					return true
				}
			}
		}
	}
	return false
}
