package canary

import (
	"fmt"
	"hash/fnv"

	"github.com/davecgh/go-spew/spew"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Checksum is the checksum Flagger v1.44.0 puts in every event-webhook body
// (pkg/controller/webhook.go canaryChecksum): the FNV-32a hash of go-spew's
// "%#v" rendering of status.trackedConfigs and status.lastAppliedSpec,
// encoded with apimachinery's rand.SafeEncodeString. It is computed with the
// same go-spew and apimachinery code Flagger uses, over a struct of the same
// (anonymous) type, because the rendering includes the type's name: any other
// struct, or a tag on a field, hashes differently.
//
// trackedConfigs is nil when the status has no trackedConfigs and non-nil
// (possibly empty) when it has, as Flagger's typed client decodes it: the two
// hash differently. Flagger posts before the status write that follows an
// event, so an event carries the checksum of the status as it was then
// (docs/flagger-notifications.md, section 2.7); docs/event-adapter.md names
// the one notice whose checksum therefore differs from Flagger's.
func Checksum(trackedConfigs *map[string]string, lastAppliedSpec string) string {
	canaryFields := struct {
		TrackedConfigs  *map[string]string
		LastAppliedSpec string
	}{trackedConfigs, lastAppliedSpec}
	h := fnv.New32a()
	flaggerSpew.Fprintf(h, "%#v", canaryFields)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// flaggerSpew is pkg/canary.ComputeHash's printer.
var flaggerSpew = spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}

// trackedConfigs reads status.trackedConfigs, keeping absent (nil) apart from
// empty. A value that is not a string map is a warning and hashes as absent.
func (d *decoder) trackedConfigs(status map[string]any) *map[string]string {
	v, ok := status["trackedConfigs"]
	if !ok || v == nil {
		return nil
	}
	in, ok := v.(map[string]any)
	if !ok {
		d.wrongType("status", "trackedConfigs", v)
		return nil
	}
	out := make(map[string]string, len(in))
	for k, x := range in {
		s, ok := x.(string)
		if !ok {
			d.warn(fmt.Sprintf("status.trackedConfigs[%q] has type %T", truncate(k), x))
			continue
		}
		out[k] = s
	}
	return &out
}
