package sim

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Status is the part of a Canary's status the simulator writes, as Flagger
// 1.44 writes it.
type Status struct {
	Phase              string
	FailedChecks       int64
	CanaryWeight       int64
	Iterations         int64
	LastAppliedSpec    string
	LastPromotedSpec   string
	LastTransitionTime time.Time
	// Promoted is the Promoted condition ("" before the first write).
	Promoted Condition
}

// Condition is Flagger's one condition type, Promoted.
type Condition struct {
	Status             string // True, False or Unknown
	Reason             string // the phase
	Message            string
	LastUpdateTime     time.Time
	LastTransitionTime time.Time
}

// keepsWeight: outside these phases Flagger resets canaryWeight and
// iterations to 0 (FLAGGER-FACTS).
func keepsWeight(phase string) bool {
	return phase == Progressing || phase == Waiting || phase == Promoting
}

// promotedStatus is the Promoted condition's status for a phase.
func promotedStatus(phase string) string {
	switch phase {
	case Initialized, Succeeded:
		return "True"
	case Failed:
		return "False"
	}
	return "Unknown"
}

// conditionMessage is Flagger's message of the Promoted condition.
func conditionMessage(phase, kind string) string {
	switch phase {
	case Initializing:
		return fmt.Sprintf("New %s detected, starting initialization.", kind)
	case Initialized:
		return fmt.Sprintf("%s initialization completed.", kind)
	case Waiting, WaitingPromotion:
		return "Waiting for approval."
	case Progressing:
		return "New revision detected, progressing canary analysis."
	case Promoting:
		return "Canary analysis completed, starting primary rolling update."
	case Finalising:
		return "Canary analysis completed, routing all traffic to primary."
	case Succeeded:
		return "Canary analysis completed successfully, promotion finished."
	case Failed:
		return fmt.Sprintf("Canary analysis failed, %s scaled to zero.", kind)
	}
	return ""
}

// next is the status Flagger writes for step st on top of s at now.
func (s Status) next(st Step, checksum func() string, kind string, now time.Time) Status {
	n := s
	n.Phase = st.Phase
	n.CanaryWeight, n.Iterations, n.FailedChecks = st.CanaryWeight, st.Iterations, st.FailedChecks
	if !keepsWeight(st.Phase) {
		n.CanaryWeight, n.Iterations = 0, 0
	}
	if st.NewRevision {
		n.LastAppliedSpec = checksum()
	}
	if st.Phase == Initialized || st.Phase == Succeeded {
		n.LastPromotedSpec = n.LastAppliedSpec
	}
	// Flagger stamps lastTransitionTime on every status write (phase, weight,
	// failed checks), which is what progress deadlines are measured from.
	n.LastTransitionTime = now
	// The condition changes only when its status or reason does, and keeps
	// its transition time while its status stays.
	c := Condition{Status: promotedStatus(st.Phase), Reason: st.Phase, Message: conditionMessage(st.Phase, kind), LastUpdateTime: now, LastTransitionTime: now}
	switch {
	case s.Promoted.Status == c.Status && s.Promoted.Reason == c.Reason:
		c = s.Promoted
	case s.Promoted.Status == c.Status:
		c.LastTransitionTime = s.Promoted.LastTransitionTime
	}
	n.Promoted = c
	return n
}

// object is the status as the JSON Flagger writes (the CanaryStatus type:
// counters always present, strings and times omitted when empty).
func (s Status) object() map[string]any {
	o := map[string]any{
		"phase":        s.Phase,
		"failedChecks": s.FailedChecks,
		"canaryWeight": s.CanaryWeight,
		"iterations":   s.Iterations,
	}
	if s.LastAppliedSpec != "" {
		o["lastAppliedSpec"] = s.LastAppliedSpec
	}
	if s.LastPromotedSpec != "" {
		o["lastPromotedSpec"] = s.LastPromotedSpec
	}
	if !s.LastTransitionTime.IsZero() {
		o["lastTransitionTime"] = rfc3339(s.LastTransitionTime)
	}
	if c := s.Promoted; c.Status != "" {
		o["conditions"] = []any{map[string]any{
			"type":               "Promoted",
			"status":             c.Status,
			"reason":             c.Reason,
			"message":            c.Message,
			"lastUpdateTime":     rfc3339(c.LastUpdateTime),
			"lastTransitionTime": rfc3339(c.LastTransitionTime),
		}}
	}
	return o
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Checksum imitates Flagger's spec hash (FNV-32a of the spec, its decimal
// digits mapped onto apimachinery's safe alphabet): a short stable string
// per namespace, canary and revision.
func Checksum(namespace, name string, revision int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%s/%d", namespace, name, revision)
	digits := []byte(fmt.Sprint(h.Sum32()))
	for i, d := range digits {
		digits[i] = alphabet[int(d)%len(alphabet)]
	}
	return string(digits)
}
