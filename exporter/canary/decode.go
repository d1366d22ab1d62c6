package canary

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// MaxLabelBytes caps every string that becomes a label value. Kubernetes
// limits names, but not targetRef.name or provider in a Canary; a megabyte
// label would be copied into every series and every Prometheus head chunk.
const MaxLabelBytes = 1024

// ErrUndecodable marks an object with no usable identity (no name or
// namespace): there is nothing to label its series with.
var ErrUndecodable = errors.New("undecodable canary")

// Options are the settings of the Flagger the Canary objects run under.
type Options struct {
	// MeshProvider is Flagger's -mesh-provider, the provider of every Facts
	// without spec.provider. Empty means DefaultMeshProvider.
	MeshProvider string
}

// Decode reads the facts out of a Canary object as client-go's unstructured
// decoding gives it (map[string]any of JSON values), with Flagger's defaults
// applied as Flagger applies them. It returns an error wrapping
// ErrUndecodable when the object cannot be exported at all; problems with
// single fields are returned as warnings and those fields are treated as
// absent (and then defaulted like Flagger defaults them).
func Decode(obj map[string]any, opts Options) (Facts, []string, error) {
	d := decoder{}
	c := Facts{
		LastTransition: Absent, Created: Absent, AnalysisIterations: Absent, StepWeight: Absent,
		ProgressDeadlineSeconds: DefaultProgressDeadlineSeconds,
		Phase:                   flagger.PhaseUnknown,
	}
	meta := d.object(obj, "", "metadata")
	c.Namespace = d.label(meta, "metadata", "namespace")
	c.Name = d.label(meta, "metadata", "name")
	if c.Namespace == "" || c.Name == "" {
		return c, d.warnings, fmt.Errorf("%w: metadata.name and metadata.namespace are required", ErrUndecodable)
	}
	if ts, ok := d.time(meta, "metadata", "creationTimestamp"); ok {
		c.Created = ts
	}

	spec := d.object(obj, "", "spec")
	target := d.object(spec, "spec", "targetRef")
	c.TargetKind = d.label(target, "spec.targetRef", "kind")
	c.TargetName = d.label(target, "spec.targetRef", "name")
	if c.TargetName == "" {
		d.warn("spec.targetRef.name is missing")
	}
	// advanceCanary: the global provider unless spec.provider overrides it.
	c.Provider = d.label(spec, "spec", "provider")
	if c.Provider == "" {
		c.Provider = opts.MeshProvider
		if c.Provider == "" {
			c.Provider = DefaultMeshProvider
		}
	}
	c.Suspended = d.bool(spec, "spec", "suspend")
	c.SkipAnalysis = d.bool(spec, "spec", "skipAnalysis")
	if v := d.number(spec, "spec", "progressDeadlineSeconds"); !IsAbsent(v) {
		c.ProgressDeadlineSeconds = v
	}
	d.analysis(&c, spec)

	status := d.object(obj, "", "status")
	phase := d.string(status, "status", "phase")
	var known bool
	if c.Phase, known = flagger.ParsePhase(phase); !known {
		d.warn(fmt.Sprintf("status.phase %q is not a Flagger phase", truncate(phase)))
	}
	c.FailedChecks = d.count(status, "status", "failedChecks")
	c.CanaryWeight = d.count(status, "status", "canaryWeight")
	c.Iterations = d.count(status, "status", "iterations")
	if ts, ok := d.time(status, "status", "lastTransitionTime"); ok {
		c.LastTransition = ts
	}
	c.Promoted = d.promoted(status)
	c.Checksum = Checksum(d.trackedConfigs(status), d.string(status, "status", "lastAppliedSpec"))
	return c, d.warnings, nil
}

// analysis reads the analysis settings as Flagger's accessors return them.
// c.Provider must be set.
func (d *decoder) analysis(c *Facts, spec map[string]any) {
	// GetAnalysis: spec.analysis, else the deprecated spec.canaryAnalysis.
	key := "analysis"
	if v, ok := spec[key]; !ok || v == nil {
		if v, ok := spec["canaryAnalysis"]; ok && v != nil {
			key = "canaryAnalysis"
		}
	}
	a := d.object(spec, "spec", key)
	p := "spec." + key

	// GetAnalysisThreshold: threshold <= 0 (or unset) means 1.
	c.Threshold = d.number(a, p, "threshold")
	if !(c.Threshold > 0) {
		c.Threshold = DefaultThreshold
	}

	// GetAnalysisInterval: unset or unparseable means 60s, below 10s 10s.
	c.IntervalSeconds = DefaultIntervalSeconds
	if s := d.string(a, p, "interval"); s != "" {
		if dur, err := time.ParseDuration(s); err != nil {
			d.warn(fmt.Sprintf("%s.interval %q is not a duration", p, truncate(s)))
		} else if dur < MinIntervalSeconds*time.Second {
			c.IntervalSeconds = MinIntervalSeconds
		} else {
			c.IntervalSeconds = dur.Seconds()
		}
	}

	// maxWeight and nextStepWeight read stepWeight and maxWeight as Go's
	// zero when unset.
	stepWeight := d.number(a, p, "stepWeight")
	stepWeightSet := !IsAbsent(stepWeight)
	if !stepWeightSet {
		stepWeight = 0
	}
	stepWeights := d.numbers(a, p, "stepWeights")
	c.MaxWeight = maxWeight(stepWeights, d.number(a, p, "maxWeight"))
	if stepWeightSet || len(stepWeights) > 0 {
		// The weight of the first step: stepWeight when > 0 (or when there
		// are no stepWeights), else the first of stepWeights capped at 100.
		c.StepWeight = nextStepWeight(stepWeight, stepWeights, 0, nil)
	}
	c.PromotionWeight = promotionWeight(stepWeight, stepWeights, c.MaxWeight)

	d.webhooks(c, a, p)

	c.AnalysisIterations = d.number(a, p, "iterations")
	match := d.present(a, "match")
	if c.Provider == KubernetesProvider {
		// advanceCanary, "use blue/green strategy for kubernetes provider":
		// match is dropped and iterations < 1 become 10.
		match = false
		if !(c.AnalysisIterations >= 1) {
			c.AnalysisIterations = KubernetesIterations
		}
	}
	c.Strategy = strategy(c.AnalysisIterations, match)
}

// strategy is Flagger's DeploymentStrategy: iterations with match is A/B
// testing, iterations alone blue/green, anything else a progressive canary.
func strategy(iterations float64, hasMatch bool) string {
	if iterations > 0 {
		if hasMatch {
			return StrategyABTesting
		}
		return StrategyBlueGreen
	}
	return StrategyCanary
}

// decoder reads typed fields from JSON maps and collects a warning for every
// field that has the wrong type instead of failing the whole object. Fields
// are named by the path of their map (prefix) and their key; the full path is
// only built for a warning.
type decoder struct{ warnings []string }

func (d *decoder) warn(s string) { d.warnings = append(d.warnings, s) }

func path(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (d *decoder) wrongType(prefix, key string, v any) {
	d.warn(fmt.Sprintf("%s has type %T", path(prefix, key), v))
}

func (d *decoder) present(m map[string]any, key string) bool {
	v, ok := m[key]
	if !ok || v == nil {
		return false
	}
	if s, ok := v.([]any); ok {
		return len(s) > 0
	}
	return true
}

// object returns m[key] as a map; a missing key gives an empty (nil) map,
// which every accessor reads as "nothing set".
func (d *decoder) object(m map[string]any, prefix, key string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		d.wrongType(prefix, key, v)
	}
	return o
}

func (d *decoder) string(m map[string]any, prefix, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.wrongType(prefix, key, v)
	}
	return s
}

// label is string() made safe for a label value: valid UTF-8 and at most
// MaxLabelBytes long.
func (d *decoder) label(m map[string]any, prefix, key string) string {
	s := d.string(m, prefix, key)
	if !utf8.ValidString(s) {
		d.warn(path(prefix, key) + " is not valid UTF-8")
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > MaxLabelBytes {
		d.warn(fmt.Sprintf("%s is %d bytes long, truncated to %d", path(prefix, key), len(s), MaxLabelBytes))
		s = truncate(s)
	}
	return s
}

func (d *decoder) bool(m map[string]any, prefix, key string) bool {
	v, ok := m[key]
	if !ok || v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		d.wrongType(prefix, key, v)
	}
	return b
}

// number reads m[key] as a finite number; Absent when unset or unreadable.
func (d *decoder) number(m map[string]any, prefix, key string) float64 {
	v, ok := m[key]
	if !ok || v == nil {
		return Absent
	}
	f, problem := toNumber(v)
	if problem != "" {
		d.warn(path(prefix, key) + problem)
	}
	return f
}

// toNumber accepts the JSON number types client-go produces (int64, float64)
// and the few integer types other callers use. Infinite values are rejected
// because the text format cannot round-trip them into useful alerts. It
// returns Absent and the end of a warning for anything else.
func toNumber(v any) (float64, string) {
	var f float64
	switch n := v.(type) {
	case int64:
		f = float64(n)
	case float64:
		f = n
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	default:
		return Absent, fmt.Sprintf(" has type %T", v)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return Absent, " is not a finite number"
	}
	return f, ""
}

// numbers reads a list of numbers. Flagger could not decode a list with a
// non-number in it, so one bad entry makes the whole list unreadable (nil).
func (d *decoder) numbers(m map[string]any, prefix, key string) []float64 {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		d.wrongType(prefix, key, v)
		return nil
	}
	out := make([]float64, len(list))
	for i, item := range list {
		var problem string
		if out[i], problem = toNumber(item); problem != "" {
			d.warn(fmt.Sprintf("%s[%d]%s", path(prefix, key), i, problem))
			return nil
		}
	}
	return out
}

// count is number() for the status counters Flagger resets to 0: absent
// reads as 0, the value Flagger would write.
func (d *decoder) count(m map[string]any, prefix, key string) float64 {
	if v := d.number(m, prefix, key); !IsAbsent(v) {
		return v
	}
	return 0
}

func (d *decoder) time(m map[string]any, prefix, key string) (float64, bool) {
	s := d.string(m, prefix, key)
	if s == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d.warn(fmt.Sprintf("%s %q is not an RFC 3339 time", path(prefix, key), truncate(s)))
		return 0, false
	}
	return float64(t.UnixNano()) / 1e9, true
}

// promoted finds the Promoted condition. Flagger keeps exactly one; should
// there be several, the last one wins, as a status patch would leave it.
func (d *decoder) promoted(status map[string]any) Condition {
	v, ok := status["conditions"]
	if !ok || v == nil {
		return ConditionAbsent
	}
	list, ok := v.([]any)
	if !ok {
		d.wrongType("status", "conditions", v)
		return ConditionAbsent
	}
	result := ConditionAbsent
	for i, item := range list {
		cond, ok := item.(map[string]any)
		if !ok {
			d.wrongType("status", fmt.Sprintf("conditions[%d]", i), item)
			continue
		}
		if d.string(cond, "status.conditions[]", "type") != "Promoted" {
			continue
		}
		switch s := d.string(cond, "status.conditions[]", "status"); s {
		case "True":
			result = ConditionTrue
		case "False":
			result = ConditionFalse
		default:
			result = ConditionUnknown
		}
	}
	return result
}

func truncate(s string) string {
	if len(s) <= MaxLabelBytes {
		return s
	}
	s = s[:MaxLabelBytes]
	// Do not cut a multi-byte rune in half.
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
