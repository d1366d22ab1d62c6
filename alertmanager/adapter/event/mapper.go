package event

import (
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// Mapper turns alerts into events by compiled Rules. It is immutable and safe
// for concurrent use; a config reload builds a new one.
type Mapper struct {
	nameLabels, namespaceLabels []string
	phaseLabel, severityLabel   string
	phases                      map[string]string
	lifecycleLabel              string
	checksumAnnotation          string
	eventTypeAnnotation         string
	lifecycle, lifecycleSev     map[string]bool // extra lifecycle alertnames and severities
	forwardResolved             bool            // resolved lifecycle notices become events too
	forwardProblems             bool            // resolved problem alerts become events too
	metaLabels, metaAnnotations []string
	message                     *template.Template
	// builtin: message is DefaultMessageTemplate, rendered by defaultMessage
	// instead of text/template (same text, a fraction of the cost).
	builtin bool
}

// Result is what one notification maps to.
type Result struct {
	Events   []Event
	Rejected []Rejection
	// SkippedResolvedLifecycle and SkippedResolvedProblems count resolved
	// alerts that, by design, produce no event (see
	// Rules.ForwardResolvedLifecycle and Rules.ForwardResolvedProblems).
	SkippedResolvedLifecycle, SkippedResolvedProblems int
	// TemplateErr is the first message-template failure, if any; those events
	// carry the default message instead, so the event still goes out.
	TemplateErr error
}

// Map maps every alert of msg. now stands in for a timestamp Alertmanager did
// not send (a resolved alert without endsAt), which only hand-made bodies do.
func (m *Mapper) Map(msg *payload.Message, now time.Time) Result {
	res := Result{Events: make([]Event, 0, len(msg.Alerts))}
	for i := range msg.Alerts {
		a := &msg.Alerts[i]
		name := first(a.Labels, m.nameLabels)
		ns := first(a.Labels, m.namespaceLabels)
		if name == "" || ns == "" {
			reason := ReasonMissingName
			if name != "" {
				reason = ReasonMissingNamespace
			}
			res.Rejected = append(res.Rejected, Rejection{Index: i, Fingerprint: a.Fingerprint, Reason: reason})
			continue
		}
		if !a.Firing() {
			if life := m.isLifecycle(a); life && !m.forwardResolved {
				res.SkippedResolvedLifecycle++
				continue
			} else if !life && !m.forwardProblems {
				res.SkippedResolvedProblems++
				continue
			}
		}
		phase, explicit := m.phase(a)
		msgText, err := m.render(msg, a, name, ns, phase)
		if err != nil && res.TemplateErr == nil {
			res.TemplateErr = err
		}
		meta := make(map[string]string, 3+len(m.metaLabels)+len(m.metaAnnotations))
		m.extra(meta, a)
		meta[KeyMessage] = msgText
		meta[KeyType] = m.eventType(a, explicit && phase == "Failed")
		meta[KeyTimestamp] = strconv.FormatInt(timestamp(a, now).UnixMilli(), 10)
		k := key(a, name, ns, phase)
		res.Events = append(res.Events, Event{
			Name:      name,
			Namespace: ns,
			Phase:     phase,
			Checksum:  m.checksum(a, k),
			Metadata:  meta,
			Labels:    a.Labels,
			Key:       k,
		})
	}
	return res
}

// checksum is Flagger's checksum of the canary's revision when the alert
// carries it (the mixin's alerts copy flagger_canary_revision_info's into
// the checksum annotation), so a consumer sees the value Flagger would have
// sent; otherwise the alert's own key stands in.
func (m *Mapper) checksum(a *payload.Alert, key string) string {
	if c := a.Annotations[m.checksumAnnotation]; c != "" && len(c) <= maxChecksumBytes {
		return c
	}
	return key
}

// maxChecksumBytes bounds a checksum taken from an annotation: Flagger's are
// at most 10 characters; anything longer is not one.
const maxChecksumBytes = 64

// phase: an explicit phase label wins (the exporter's alerts know the phase),
// then the per-alertname table, then the alert's own state. The second
// result is false for that last fallback.
func (m *Mapper) phase(a *payload.Alert) (string, bool) {
	if p := a.Labels[m.phaseLabel]; flagger.IsPhase(p) {
		return p, true
	}
	if p, ok := m.phases[a.Labels["alertname"]]; ok {
		return p, true
	}
	if a.Firing() {
		return "Failed", false
	}
	return "Succeeded", false
}

// eventType: an event_type annotation of Normal or Warning wins for a firing
// alert. Otherwise Flagger's rule: rollout steps are Normal, faults Warning.
// A firing alert is a Warning unless it is a lifecycle step other than the
// failure: a lifecycle alert whose phase is (explicitly) Failed, such as
// FlaggerCanaryFailed, is a Warning, as "Canary failed! Scaling down" is in
// Flagger. A resolved alert is Normal.
func (m *Mapper) eventType(a *payload.Alert, failed bool) string {
	if !a.Firing() {
		return TypeNormal
	}
	// The alert says which type Flagger gives the step (the mixin's notices
	// do: its "Halt … waiting for approval" events are Warnings).
	if t := a.Annotations[m.eventTypeAnnotation]; t == TypeNormal || t == TypeWarning {
		return t
	}
	if m.isLifecycle(a) && !failed {
		return TypeNormal
	}
	return TypeWarning
}

func (m *Mapper) isLifecycle(a *payload.Alert) bool {
	return a.Labels[m.lifecycleLabel] == "true" || m.lifecycle[a.Labels["alertname"]] || m.lifecycleSev[a.Labels[m.severityLabel]]
}

func (m *Mapper) render(msg *payload.Message, a *payload.Alert, name, ns, phase string) (string, error) {
	if m.builtin {
		return orDefaultMessage(defaultMessage(a.Annotations), a), nil
	}
	d := &MessageData{
		Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
		StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
		Name: name, Namespace: ns, Phase: phase,
		Receiver: msg.Receiver, ExternalURL: msg.ExternalURL,
		GroupLabels: msg.GroupLabels, CommonLabels: msg.CommonLabels, CommonAnnotations: msg.CommonAnnotations,
	}
	s, err := render(m.message, d)
	if err != nil {
		s = defaultMessage(a.Annotations)
	}
	return orDefaultMessage(s, a), err
}

// defaultMessage is DefaultMessageTemplate in Go, trimmed as render trims;
// TestDefaultMessageMatchesTemplate holds the two to the same output.
func defaultMessage(ann map[string]string) string {
	if msg := ann["message"]; msg != "" {
		return strings.TrimSpace(msg)
	}
	return sentences(ann["summary"], ann["description"])
}

// orDefaultMessage: Flagger never sends an empty message; say at least what
// fired.
func orDefaultMessage(s string, a *payload.Alert) string {
	if s == "" {
		return cmpOr(a.Labels["alertname"], "alert") + " is " + a.Status
	}
	return s
}

// extra copies the configured labels, then annotations, so an annotation wins
// over a label of the same name. Compile refused reserved names already; the
// caller writes the reserved keys afterwards regardless.
func (m *Mapper) extra(meta map[string]string, a *payload.Alert) {
	for _, k := range m.metaLabels {
		if v := a.Labels[k]; v != "" {
			meta[k] = v
		}
	}
	for _, k := range m.metaAnnotations {
		if v := a.Annotations[k]; v != "" {
			meta[k] = v
		}
	}
}

// timestamp: when the alert started firing, or when it ended.
func timestamp(a *payload.Alert, now time.Time) time.Time {
	t := a.StartsAt
	if !a.Firing() {
		t = a.EndsAt
	}
	if t.IsZero() || t.Year() <= 1 {
		return now
	}
	return t
}

func first(l map[string]string, names []string) string {
	for _, n := range names {
		if v := l[n]; v != "" {
			return v
		}
	}
	return ""
}
