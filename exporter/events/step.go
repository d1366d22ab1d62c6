// Package events relays Flagger's Kubernetes Events on Canaries. Flagger
// records every message it posts to its event webhook as an Event on the
// Canary (reason Synced, the same text), including the per-step ones no
// Canary status shows: "Advance … canary weight 20", "Halt … advancement …",
// hook results, "Rolling back …". The package watches those Events, keeps
// the latest one per canary for a metric (the chat templates quote it) and
// sends each new occurrence of a per-step event to Alertmanager as a
// one-shot alert, which the event adapter turns into Flagger's event body.
//
// Data flows one way: Event objects → Step (decode, pure) → dedupe by
// occurrence → latest-step metric and Alertmanager alerts.
package events

import (
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// Step is one Kubernetes Event about a Canary, in its latest occurrence.
type Step struct {
	Namespace, Canary string // the involved Canary
	UID               string // the Event object's uid
	Count             int32  // occurrences so far (Event.count; 1 when unset)
	Type              string // Normal or Warning
	Message           string // Flagger's text, the aggregation prefix removed
	Time              time.Time
}

// combinedPrefix is what client-go's event aggregator puts before a message
// once an object has had more than 10 events of one reason within 10
// minutes (tools/record events_cache.go): Flagger's events are all reason
// Synced, so every rollout longer than a few steps hits it.
const combinedPrefix = "(combined from similar events): "

// MaxMessageBytes caps a message that becomes a label value and an
// annotation; Flagger's longest (a hook's error output) can be large.
const MaxMessageBytes = 1024

// Decode reads a core/v1 Event. ok is false for anything that is not an
// Event on a Flagger Canary with a message: those are not relayed. It never
// panics on odd objects (unstructured's accessors type-check every field).
func Decode(u *unstructured.Unstructured) (s Step, ok bool) {
	obj := u.Object
	kind, _, _ := unstructured.NestedString(obj, "involvedObject", "kind")
	apiVersion, _, _ := unstructured.NestedString(obj, "involvedObject", "apiVersion")
	if kind != flagger.Kind || apiVersion != flagger.Group+"/"+flagger.Version {
		return s, false
	}
	s.Namespace, _, _ = unstructured.NestedString(obj, "involvedObject", "namespace")
	s.Canary, _, _ = unstructured.NestedString(obj, "involvedObject", "name")
	if s.Namespace == "" {
		s.Namespace = u.GetNamespace()
	}
	msg, _, _ := unstructured.NestedString(obj, "message")
	s.Message = clip(strings.TrimPrefix(msg, combinedPrefix))
	if s.Canary == "" || s.Message == "" {
		return s, false
	}
	s.UID = string(u.GetUID())
	s.Type, _, _ = unstructured.NestedString(obj, "type")
	if s.Type != "Warning" {
		s.Type = "Normal"
	}
	count, _, _ := unstructured.NestedInt64(obj, "count")
	if series, _, _ := unstructured.NestedInt64(obj, "series", "count"); series > count {
		count = series
	}
	s.Count = int32(max(1, min(count, 1<<31-1)))
	s.Time = latestTime(obj)
	return s, true
}

// latestTime: lastTimestamp (core/v1 recorders, Flagger's), else the
// events.k8s.io fields, else the creation time.
func latestTime(obj map[string]any) time.Time {
	for _, path := range [][]string{{"lastTimestamp"}, {"series", "lastObservedTime"}, {"eventTime"}, {"firstTimestamp"}, {"metadata", "creationTimestamp"}} {
		if v, _, _ := unstructured.NestedString(obj, path...); v != "" {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// clip keeps at most MaxMessageBytes of valid UTF-8, cut at a rune boundary.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxMessageBytes {
		return s
	}
	cut := MaxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
