package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// chatMsg is one Slack message or Teams card about one canary.
type chatMsg struct {
	stack.Notification
	seq int64
}

func (m chatMsg) firing() []string { return names(m.Firing) }
func (m chatMsg) ended() []string  { return names(m.Ended) }

func names(es []stack.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Alert)
	}
	slices.Sort(out)
	return out
}

// chat decodes what a Slack or Teams sink received about object
// (canary.namespace), in arrival order. Every alert of a canary shares one
// Alertmanager group, so a message is about exactly one canary.
func chat(t *testing.T, k *stack.Sink, object string) []chatMsg {
	t.Helper()
	decode := stack.DecodeSlack
	if k.Name == "teams" {
		decode = stack.DecodeTeams
	}
	var out []chatMsg
	for _, m := range k.Messages() {
		n, err := decode(m.Body)
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		if !strings.Contains(n.Title, object) {
			continue
		}
		for _, e := range append(append([]stack.Entry(nil), n.Firing...), n.Ended...) {
			if e.Object != object {
				t.Errorf("%s message titled %q lists %s, of another canary", k.Name, n.Title, e)
			}
		}
		out = append(out, chatMsg{Notification: n, seq: m.Seq})
	}
	return out
}

// phaseOf is the phase label each lifecycle or rollback alert carries,
// which the templates print as "Phase: …".
var phaseOf = map[string]string{
	initialized: "Initialized", newRevision: "Progressing", waiting: "WaitingPromotion",
	promoted: "Succeeded", failed: "Failed", rolledBack: "Failed",
}

// checkChat compares everything Slack and Teams received about a canary
// with the expected sequence of firing sets, in order, no duplicates. A
// lifecycle notice is a message of its own, as Flagger posts its steps: one
// alert, nothing listed as ended (the next step is its own message). A
// message about problems lists as ended what stopped firing since the
// previous problem message (the resolved notifications). Every message names
// the canary as canary.namespace and prints each alert's phase. Slack and
// Teams get the same messages in the same order: they are one receiver.
func checkChat(t *testing.T, s *stack.Stack, object string, want [][]string) {
	t.Helper()
	for _, k := range []*stack.Sink{s.Slack, s.Teams} {
		var got [][]string
		var prev []string // firing in the previous problem message
		for _, m := range skewed(t, k.Name, chat(t, k, object)) {
			if !strings.Contains(m.Title, object) {
				t.Errorf("%s %s title %q does not name the canary", object, k.Name, m.Title)
			}
			notice := len(m.Firing) == 1 && lifecycle[m.Firing[0].Alert]
			if notice && len(m.Ended) > 0 {
				t.Errorf("%s %s %q: a notice lists ended alerts %v", object, k.Name, m.Title, m.ended())
			}
			for _, e := range m.Firing {
				if lifecycle[e.Alert] && !notice {
					t.Errorf("%s %s %q: notice %s shares a message with %v", object, k.Name, m.Title, e.Alert, m.firing())
				}
			}
			if !notice {
				for _, a := range prev {
					if !slices.Contains(m.firing(), a) && !slices.Contains(m.ended(), a) {
						t.Errorf("%s %s %q: %s stopped firing but is not listed as ended (ended: %v)", object, k.Name, m.Title, a, m.ended())
					}
				}
				prev = m.firing()
			}
			if len(m.firing()) == 0 {
				if len(m.ended()) == 0 {
					t.Errorf("%s %s %q: a message with nothing firing and nothing ended", object, k.Name, m.Title)
				}
				continue
			}
			got = append(got, m.firing())
			for _, e := range m.Firing {
				if p := phaseOf[e.Alert]; p != "" && !strings.Contains(e.Facts, "Phase: "+p) {
					t.Errorf("%s %s: %s does not say Phase: %s: %q", object, k.Name, e.Alert, p, e.Facts)
				}
				if e.Message == "" {
					t.Errorf("%s %s: %s has no message", object, k.Name, e.Alert)
				}
			}
			if k == s.Slack {
				checkColor(t, object, m)
			}
		}
		for _, w := range want {
			slices.Sort(w)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %s messages announce %v, want %v (one message per notice, in order)", object, k.Name, got, want)
		}
	}
}

// skewed sets apart the messages issueGroupSkew produces: canary_rollback
// announced as firing before FlaggerCanaryRolledBack (another rule group)
// inhibits it. Nothing else is let through.
func skewed(t *testing.T, sink string, msgs []chatMsg) []chatMsg {
	t.Helper()
	var out []chatMsg
	for _, m := range msgs {
		if slices.Contains(m.firing(), flaggerRollbk) {
			knownIssue(t, issueGroupSkew, "%s %q: canary_rollback firing %v", sink, m.Title, m.firing())
			continue
		}
		out = append(out, m)
	}
	return out
}

// checkColor: Slack's colour follows the worst firing alert.
func checkColor(t *testing.T, object string, m chatMsg) {
	t.Helper()
	want := "good"
	for _, a := range m.firing() {
		switch a {
		case failed, rolledBack:
			want = "danger"
		case newRevision, waiting:
			if want == "good" {
				want = "#439FE0"
			}
		}
	}
	if m.Color != want {
		t.Errorf("%s: slack message %q has colour %q, want %q", object, m.Title, m.Color, want)
	}
}
