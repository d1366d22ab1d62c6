package canary

import "fmt"

// HookTypes are the spec.analysis.webhooks types Flagger v1.44.0 runs, in
// the order it declares them (pkg/apis/flagger/v1beta1 HookType).
var HookTypes = [...]string{
	"rollout", "pre-rollout", "post-rollout", "confirm-rollout", "confirm-promotion",
	"event", "rollback", "confirm-traffic-increase",
}

// NumHookTypes counts HookTypes.
const NumHookTypes = len(HookTypes)

// webhooks counts the analysis webhooks by type. A webhook without a type
// is a rollout hook, as runAnalysis treats it. The counts let alerts tell a
// canary waiting at a gate (confirm-traffic-increase writes no status while
// it waits) from a stuck one.
func (d *decoder) webhooks(c *Facts, analysis map[string]any, prefix string) {
	v, ok := analysis["webhooks"]
	if !ok || v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		d.wrongType(prefix, "webhooks", v)
		return
	}
	for i, item := range list {
		hook, ok := item.(map[string]any)
		if !ok {
			d.warn(fmt.Sprintf("%s.webhooks[%d] has type %T", prefix, i, item))
			continue
		}
		typ := d.string(hook, prefix+".webhooks[]", "type")
		if typ == "" {
			typ = "rollout"
		}
		known := false
		for t, name := range HookTypes {
			if typ == name {
				c.Webhooks[t]++
				known = true
				break
			}
		}
		if !known {
			d.warn(fmt.Sprintf("%s.webhooks[%d].type %q is not a Flagger webhook type", prefix, i, truncate(typ)))
		}
	}
}
