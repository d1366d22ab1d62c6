package canary

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLabelBytes caps every string that becomes a label value. Kubernetes
// limits names, but not targetRef.name or provider in a Canary; a megabyte
// label would be copied into every series and every Prometheus head chunk.
const MaxLabelBytes = 1024

// ErrUndecodable marks an object with no usable identity (no name or
// namespace): there is nothing to label its series with.
var ErrUndecodable = errors.New("undecodable canary")

// Decode reads the facts out of a Canary object as client-go's unstructured
// decoding gives it (map[string]any of JSON values). It returns an error
// wrapping ErrUndecodable when the object cannot be exported at all; problems
// with single fields are returned as warnings and those fields are treated as
// absent.
func Decode(obj map[string]any) (Canary, []string, error) {
	d := decoder{}
	c := Canary{
		LastTransition: Absent, Created: Absent,
		Threshold: Absent, AnalysisIterations: Absent, MaxWeight: Absent,
		StepWeight: Absent, IntervalSeconds: Absent,
		ProgressDeadlineSeconds: DefaultProgressDeadlineSeconds,
		Phase:                   PhaseUnknown,
	}
	meta := d.object(obj, "metadata")
	c.Namespace = d.label(meta, "metadata.namespace", "namespace")
	c.Name = d.label(meta, "metadata.name", "name")
	if c.Namespace == "" || c.Name == "" {
		return c, d.warnings, fmt.Errorf("%w: metadata.name and metadata.namespace are required", ErrUndecodable)
	}
	if ts, ok := d.time(meta, "metadata.creationTimestamp", "creationTimestamp"); ok {
		c.Created = ts
	}

	spec := d.object(obj, "spec")
	target := d.object(spec, "targetRef")
	c.TargetKind = d.label(target, "spec.targetRef.kind", "kind")
	c.TargetName = d.label(target, "spec.targetRef.name", "name")
	if c.TargetName == "" {
		d.warn("spec.targetRef.name is missing")
	}
	c.Provider = d.label(spec, "spec.provider", "provider")
	c.Suspended = d.bool(spec, "spec.suspend", "suspend")
	c.SkipAnalysis = d.bool(spec, "spec.skipAnalysis", "skipAnalysis")
	if v := d.number(spec, "spec.progressDeadlineSeconds", "progressDeadlineSeconds"); !IsAbsent(v) {
		c.ProgressDeadlineSeconds = v
	}

	analysis := d.object(spec, "analysis")
	c.Threshold = d.number(analysis, "spec.analysis.threshold", "threshold")
	c.AnalysisIterations = d.number(analysis, "spec.analysis.iterations", "iterations")
	c.MaxWeight = d.number(analysis, "spec.analysis.maxWeight", "maxWeight")
	c.StepWeight = d.number(analysis, "spec.analysis.stepWeight", "stepWeight")
	if s := d.string(analysis, "spec.analysis.interval", "interval"); s != "" {
		if dur, err := time.ParseDuration(s); err == nil {
			c.IntervalSeconds = dur.Seconds()
		} else {
			d.warn(fmt.Sprintf("spec.analysis.interval %q is not a duration", truncate(s)))
		}
	}
	c.Strategy = strategy(c.AnalysisIterations, d.present(analysis, "match"))

	status := d.object(obj, "status")
	phase := d.string(status, "status.phase", "phase")
	var known bool
	if c.Phase, known = ParsePhase(phase); !known {
		d.warn(fmt.Sprintf("status.phase %q is not a Flagger phase", truncate(phase)))
	}
	c.FailedChecks = d.count(status, "status.failedChecks", "failedChecks")
	c.CanaryWeight = d.count(status, "status.canaryWeight", "canaryWeight")
	c.Iterations = d.count(status, "status.iterations", "iterations")
	if ts, ok := d.time(status, "status.lastTransitionTime", "lastTransitionTime"); ok {
		c.LastTransition = ts
	}
	c.Promoted = d.promoted(status)
	return c, d.warnings, nil
}

// strategy is Flagger's DeploymentStrategy: iterations with match is A/B
// testing, iterations alone blue/green, anything else a progressive canary.
func strategy(iterations float64, hasMatch bool) string {
	if !IsAbsent(iterations) && iterations > 0 {
		if hasMatch {
			return StrategyABTesting
		}
		return StrategyBlueGreen
	}
	return StrategyCanary
}

// decoder reads typed fields from JSON maps and collects a warning for every
// field that has the wrong type instead of failing the whole object.
type decoder struct{ warnings []string }

func (d *decoder) warn(s string) { d.warnings = append(d.warnings, s) }

func (d *decoder) wrongType(path string, v any) {
	d.warn(fmt.Sprintf("%s has type %T", path, v))
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
func (d *decoder) object(m map[string]any, key string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		d.wrongType(key, v)
	}
	return o
}

func (d *decoder) string(m map[string]any, path, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.wrongType(path, v)
	}
	return s
}

// label is string() made safe for a label value: valid UTF-8 and at most
// MaxLabelBytes long.
func (d *decoder) label(m map[string]any, path, key string) string {
	s := d.string(m, path, key)
	if !utf8.ValidString(s) {
		d.warn(path + " is not valid UTF-8")
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > MaxLabelBytes {
		d.warn(fmt.Sprintf("%s is %d bytes long, truncated to %d", path, len(s), MaxLabelBytes))
		s = truncate(s)
	}
	return s
}

func (d *decoder) bool(m map[string]any, path, key string) bool {
	v, ok := m[key]
	if !ok || v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		d.wrongType(path, v)
	}
	return b
}

// number accepts the JSON number types client-go produces (int64, float64)
// and the few integer types other callers use. Infinite values are rejected
// because the text format cannot round-trip them into useful alerts.
func (d *decoder) number(m map[string]any, path, key string) float64 {
	v, ok := m[key]
	if !ok || v == nil {
		return Absent
	}
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
		d.wrongType(path, v)
		return Absent
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		d.warn(path + " is not a finite number")
		return Absent
	}
	return f
}

// count is number() for the status counters Flagger resets to 0: absent
// reads as 0, the value Flagger would write.
func (d *decoder) count(m map[string]any, path, key string) float64 {
	if v := d.number(m, path, key); !IsAbsent(v) {
		return v
	}
	return 0
}

func (d *decoder) time(m map[string]any, path, key string) (float64, bool) {
	s := d.string(m, path, key)
	if s == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d.warn(fmt.Sprintf("%s %q is not an RFC 3339 time", path, truncate(s)))
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
		d.wrongType("status.conditions", v)
		return ConditionAbsent
	}
	result := ConditionAbsent
	for i, item := range list {
		cond, ok := item.(map[string]any)
		if !ok {
			d.wrongType(fmt.Sprintf("status.conditions[%d]", i), item)
			continue
		}
		if d.string(cond, "status.conditions[].type", "type") != "Promoted" {
			continue
		}
		switch s := d.string(cond, "status.conditions[].status", "status"); s {
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
