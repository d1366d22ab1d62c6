package event

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"text/template"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// DefaultMessageTemplate uses the message annotation when the alert has one
// (the mixin's alerts carry Flagger's own wording there), else the summary and
// description, the annotations every Prometheus alert convention has.
const DefaultMessageTemplate = `{{ with .Annotations.message }}{{ . }}{{ else }}` +
	`{{ sentences .Annotations.summary .Annotations.description }}{{ end }}`

// Rules is the mapping section of the config file. A zero field takes its
// default, so a config may leave the whole section out.
type Rules struct {
	// NameLabels are tried in order for the Canary's name. canary comes first
	// because flagger_canary_status's name label is the target's name, which
	// is not always the Canary's.
	NameLabels []string `yaml:"name_labels,omitempty"`
	// NamespaceLabels are tried in order for the namespace.
	NamespaceLabels []string `yaml:"namespace_labels,omitempty"`
	// PhaseLabel, when an alert carries it with a Flagger phase, wins over
	// everything else.
	PhaseLabel string `yaml:"phase_label,omitempty"`
	// Phases maps alertname to phase, merged over DefaultPhases; map an
	// alertname to "" to drop a default.
	Phases map[string]string `yaml:"phases,omitempty"`
	// LifecycleLabel names the label that marks a lifecycle notice when its
	// value is "true" (default "lifecycle", which the mixin sets). A firing
	// lifecycle notice is a Normal event, except one whose phase is Failed.
	LifecycleLabel string `yaml:"lifecycle_label,omitempty"`
	// LifecycleAlerts are more alertnames to treat as lifecycle notices, for
	// alert rules of your own that do not set the label.
	LifecycleAlerts []string `yaml:"lifecycle_alerts,omitempty"`
	// LifecycleSeverities: alerts with one of these severities (the
	// SeverityLabel's value) are lifecycle notices too. Empty by default: a
	// severity says how urgent a problem is, not whether it is one.
	LifecycleSeverities []string `yaml:"lifecycle_severities,omitempty"`
	// SeverityLabel is the label LifecycleSeverities look at.
	SeverityLabel string `yaml:"severity_label,omitempty"`
	// ChecksumAnnotation names the annotation holding Flagger's checksum of
	// the canary's revision (default "checksum", which the mixin sets from
	// flagger_canary_revision_info). Without it the event's checksum
	// identifies the alert's state instead.
	ChecksumAnnotation string `yaml:"checksum_annotation,omitempty"`
	// EventTypeAnnotation names the annotation that gives a firing alert's
	// eventType, Normal or Warning (default "event_type", which the mixin's
	// notices set to Flagger's type for the step).
	EventTypeAnnotation string `yaml:"event_type_annotation,omitempty"`
	// ForwardResolvedLifecycle sends an event when a lifecycle alert
	// resolves too. Off by default: Flagger sends one event per step, and a
	// lifecycle alert resolves because the next step began, which has its
	// own event.
	ForwardResolvedLifecycle bool `yaml:"forward_resolved_lifecycle,omitempty"`
	// ForwardResolvedProblems sends a Normal event when a problem alert
	// (any alert that is not a lifecycle notice) resolves. Off by default:
	// Flagger never sends an event for something that stopped, and a
	// "resolved" event carrying the alert's phase (Failed, for a rollback)
	// reads as a second failure.
	ForwardResolvedProblems bool `yaml:"forward_resolved_problems,omitempty"`
	// MessageTemplate is a Go text/template over MessageData for eventMessage.
	MessageTemplate string `yaml:"message_template,omitempty"`
	// Metadata copies more labels and annotations into the event's metadata,
	// under their own names; annotations win over labels of the same name.
	Metadata MetadataRules `yaml:"metadata,omitempty"`
}

// MetadataRules name the labels and annotations copied into metadata.
type MetadataRules struct {
	Labels      []string `yaml:"labels,omitempty"`
	Annotations []string `yaml:"annotations,omitempty"`
}

// Compile validates the rules and returns a Mapper; the error names the first
// field that is wrong.
func (r Rules) Compile() (*Mapper, error) {
	m := &Mapper{
		nameLabels:          orDefault(r.NameLabels, []string{"canary", "name"}),
		namespaceLabels:     orDefault(r.NamespaceLabels, []string{"namespace"}),
		phaseLabel:          cmpOr(r.PhaseLabel, "phase"),
		severityLabel:       cmpOr(r.SeverityLabel, "severity"),
		phases:              DefaultPhases(),
		lifecycleLabel:      cmpOr(r.LifecycleLabel, DefaultLifecycleLabel),
		checksumAnnotation:  cmpOr(r.ChecksumAnnotation, "checksum"),
		eventTypeAnnotation: cmpOr(r.EventTypeAnnotation, "event_type"),
		lifecycle:           set(r.LifecycleAlerts),
		lifecycleSev:        set(r.LifecycleSeverities),
		metaLabels:          slices.Clone(r.Metadata.Labels),
		metaAnnotations:     slices.Clone(r.Metadata.Annotations),
		forwardResolved:     r.ForwardResolvedLifecycle,
		forwardProblems:     r.ForwardResolvedProblems,
	}
	maps.Copy(m.phases, r.Phases)
	for alertname, phase := range m.phases {
		if phase == "" {
			delete(m.phases, alertname)
			continue
		}
		if !flagger.IsPhase(phase) {
			return nil, fmt.Errorf("mapping.phases[%q]: %q is not a Flagger phase (one of %v)", alertname, phase, flagger.PhaseNames[:flagger.PhaseUnknown])
		}
	}
	for _, k := range append(slices.Clone(m.metaLabels), m.metaAnnotations...) {
		if k == "" {
			return nil, errors.New("mapping.metadata: empty label or annotation name")
		}
		if reserved(k) {
			return nil, fmt.Errorf("mapping.metadata: %q would overwrite Flagger's own metadata key", k)
		}
	}
	src := cmpOr(r.MessageTemplate, DefaultMessageTemplate)
	t, err := parseTemplate(src)
	if err != nil {
		return nil, fmt.Errorf("mapping.message_template: %w", err)
	}
	// Execute once on a sample so a reference to a field that does not exist
	// fails the config load instead of every alert at run time.
	if _, err := render(t, sampleData()); err != nil {
		return nil, fmt.Errorf("mapping.message_template: %w", err)
	}
	m.message = t
	m.builtin = src == DefaultMessageTemplate
	return m, nil
}

func parseTemplate(src string) (*template.Template, error) {
	return template.New("message").Option("missingkey=zero").Funcs(templateFuncs).Parse(src)
}

func reserved(k string) bool { return k == KeyMessage || k == KeyType || k == KeyTimestamp }

func orDefault(v, def []string) []string {
	if len(v) == 0 {
		return def
	}
	return slices.Clone(v)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func set(v []string) map[string]bool {
	s := make(map[string]bool, len(v))
	for _, x := range v {
		s[x] = true
	}
	return s
}
