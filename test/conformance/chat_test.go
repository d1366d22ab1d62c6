package conformance_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// chatAlerts are the alerts that stand for Flagger's chat messages: the
// mixin's lifecycle notices, and the failed promotion, which Flagger
// announces too (each is one Slack message of its own).
var chatAlerts = map[string]bool{
	"FlaggerCanaryInitialized": true, "FlaggerCanaryNewRevision": true, "FlaggerCanaryWaiting": true,
	"FlaggerCanaryWaitingTrafficIncrease": true, "FlaggerCanaryWaitingPromotion": true,
	"FlaggerCanaryPromoted": true, "FlaggerCanaryFailed": true, "FlaggerCanaryPromotionFailed": true,
}

// chat is one chat message as a reader sees it: the text and Flagger's
// fields (Target, Failed checks threshold, Progress deadline, Traffic
// routing) with their values.
type chat struct {
	text, color string
	fields      map[string]string
}

// flaggerFields are the fields Flagger's chat messages carry (events.go,
// alertMetadata is off: -slack-url without metadata).
var flaggerFields = []string{"Target", "Failed checks threshold", "Progress deadline", "Traffic routing"}

// flaggerChats decodes Flagger's own Slack posts for the canary, in order.
// Consecutive repeats are collapsed, here and in ourChats: Flagger posts the
// traffic-increase gate's message on every tick while it is closed, and
// nothing in between when one gate follows another, where the notice sends
// one message per gate.
func flaggerChats(posts []stack.Message, object string) []chat {
	var out []chat
	for _, m := range posts {
		var p struct {
			Attachments []struct {
				Color      string `json:"color"`
				AuthorName string `json:"author_name"`
				Text       string `json:"text"`
				Fields     []struct {
					Title string `json:"title"`
					Value string `json:"value"`
				} `json:"fields"`
			} `json:"attachments"`
		}
		if json.Unmarshal(m.Body, &p) != nil || len(p.Attachments) != 1 {
			continue
		}
		a := p.Attachments[0]
		if a.AuthorName != object {
			continue
		}
		c := chat{text: a.Text, color: a.Color, fields: map[string]string{}}
		for _, f := range a.Fields {
			c.fields[f.Title] = f.Value
		}
		if n := len(out); n > 0 && out[n-1].text == c.text {
			continue
		}
		out = append(out, c)
	}
	return out
}

// ourChats decodes the Slack messages Alertmanager sent for the canary's
// notices, in order of arrival (each notice is its own group, so arrival
// follows firing), and the failed promotion: a problem, which shares its
// canary's group and so may be listed again in later updates of it; its
// first listing is its message.
func ourChats(posts []stack.Message, object string) []chat {
	var out []chat
	problemSeen := map[string]bool{}
	for _, m := range posts {
		n, err := stack.DecodeSlack(m.Body)
		if err != nil {
			continue
		}
		for _, e := range n.Firing {
			if e.Object != object || !chatAlerts[e.Alert] {
				continue
			}
			if e.Alert == "FlaggerCanaryPromotionFailed" {
				if problemSeen[e.Alert] {
					continue
				}
				problemSeen[e.Alert] = true
			} else if len(n.Firing) != 1 {
				continue // notices are never grouped
			}
			c := decodedChat(e, n.Color)
			if k := len(out); k > 0 && out[k-1].text == c.text {
				continue // one gate after another: see flaggerChats
			}
			out = append(out, c)
		}
	}
	return out
}

func decodedChat(e stack.Entry, color string) chat {
	c := chat{text: e.Message, color: color, fields: map[string]string{}}
	for _, part := range strings.Split(e.Facts, " · ") {
		if k, v, ok := strings.Cut(part, ": "); ok {
			c.fields[k] = v
		}
	}
	return c
}

// Intended differences of the chat comparison.
const (
	whyBlue         = "blue (#439FE0) marks a rollout in progress or waiting; Flagger colours every non-error message good"
	whyWeightSteps  = "for stepWeights Flagger lists every step and its raw maxWeight; the exporter exports the first step and the maximum weight Flagger computes"
	whyTargetAlways = "the templates name the target workload on every message; Flagger's fields come only with its initialisation and new-revision messages"
	whyTarget       = "Flagger's Target names the Canary's own name (%s); the exporter's series name the target workload (%s)"
)

// chats holds the Slack messages Alertmanager sent from the mixin's notices
// to the ones the real Flagger posted itself in the same run: the same
// texts, in the same order, with Flagger's fields and their values.
func (r *run) chats() {
	r.t.Helper()
	object := canaryName + "." + r.ns
	var flagger, ours []chat
	// 90 s: the failed promotion's alert is pending for promotionFailedFor
	// (1m) before it is sent.
	harness.Eventually(r.t, 90*time.Second, func() string {
		flagger = flaggerChats(r.f.Slack.Messages(), object)
		ours = ourChats(r.s.Slack.Messages(), object)
		if len(ours) < len(flagger) {
			return fmt.Sprintf("%s: %d chat messages from Alertmanager so far, Flagger posted %d:\n ours    %+v\n Flagger %+v", object, len(ours), len(flagger), ours, flagger)
		}
		return ""
	})
	if len(ours) != len(flagger) {
		r.t.Errorf("%s: Alertmanager sent %d chat messages for notices, Flagger posted %d:\n ours    %+v\n Flagger %+v", object, len(ours), len(flagger), ours, flagger)
		return
	}
	for i, f := range flagger {
		o := ours[i]
		var why, bad []string
		if o.text != f.text {
			bad = append(bad, fmt.Sprintf("text %q, Flagger %q", o.text, f.text))
		}
		for _, k := range flaggerFields {
			switch fv, ov := f.fields[k], o.fields[k]; {
			case fv == ov:
			case k == "Target" && fv != "" && ov != "":
				why = append(why, fmt.Sprintf(whyTarget, fv, ov))
			case k == "Target" && fv == "":
				why = append(why, whyTargetAlways)
			case k == "Traffic routing" && strings.HasPrefix(fv, "Weight steps: ") && strings.HasPrefix(ov, "Weight step: "):
				why = append(why, whyWeightSteps)
			default:
				bad = append(bad, fmt.Sprintf("field %s %q, Flagger %q", k, ov, fv))
			}
		}
		switch {
		case o.color == f.color:
		case o.color == "#439FE0" && f.color == "good":
			why = append(why, whyBlue)
		default:
			bad = append(bad, fmt.Sprintf("colour %s, Flagger %s", o.color, f.color))
		}
		if len(bad) > 0 {
			r.t.Errorf("%s: chat message %d: %s", object, i+1, strings.Join(bad, "; "))
		}
		verdict := "same"
		if len(why) > 0 {
			verdict = "intended difference: " + strings.Join(why, "; ")
		}
		r.sc.add(row{fmt.Sprintf("chat %d", i+1), "chat: " + o.text, f.color + fieldList(f.fields), o.color + fieldList(o.fields), verdict})
	}
}

func fieldList(f map[string]string) string {
	var parts []string
	for _, k := range flaggerFields {
		if v, ok := f[k]; ok {
			parts = append(parts, k+": "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}
