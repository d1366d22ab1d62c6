package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Notification is one Slack message or Teams card, read back from the text
// the repository's templates render: which alerts it announces as firing and
// which as over, for which canary.
type Notification struct {
	Title  string
	Color  string // Slack only
	Firing []Entry
	Ended  []Entry // lifecycle steps that ended and problems that resolved
}

// Entry is one alert listed in a notification.
type Entry struct {
	Alert   string // alertname, recovered from the headline (and message)
	Object  string // canary.namespace
	Message string // Flagger's wording (firing only)
	Facts   string // "Target: … · Phase: …" (firing only)
}

func (e Entry) String() string { return e.Alert + " " + e.Object }

// Event is the body of Flagger's event webhook.
type Event struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata"`
}

// headlines maps the templates' headline (flagger.headline in
// alertmanager/templates/flagger.tmpl) back to the alertname. "Canary
// failed" is shared by FlaggerCanaryFailed and canary_rollback; the message
// tells them apart.
var headlines = map[string]string{
	"Initialization done":                           "FlaggerCanaryInitialized",
	"New revision detected":                         "FlaggerCanaryNewRevision",
	"Waiting for approval":                          "FlaggerCanaryWaiting",
	"Waiting for traffic increase":                  "FlaggerCanaryWaitingTrafficIncrease",
	"Waiting for promotion":                         "FlaggerCanaryWaitingPromotion",
	"Promotion completed":                           "FlaggerCanaryPromoted",
	"Rolled back":                                   "FlaggerCanaryRolledBack",
	"Rollout stuck":                                 "FlaggerCanaryProgressDeadlineExceeded",
	"Promotion failed, primary not ready":           "FlaggerCanaryPromotionFailed",
	"Failed checks rising":                          "FlaggerCanaryFailedChecksRising",
	"Waiting for promotion too long":                "FlaggerCanaryWaitingPromotionTooLong",
	"Rolled back below the failed-checks threshold": "FlaggerCanaryRolledBackBelowThreshold",
	"flagger-exporter is down":                      "FlaggerExporterDown",
	"flagger-exporter is not synced":                "FlaggerExporterNotSynced",
}

// alertName: a firing "Canary failed" is FlaggerCanaryFailed when it
// carries one of Flagger's messages for it (its chat text "Failed checks
// threshold reached N", or its event text "Canary failed! Scaling down …"
// when the rollback was below the threshold); an ended one is
// FlaggerCanaryFailed when it "Ended" (a lifecycle step) rather than
// "Resolved" (a problem).
func alertName(headline, message string) string {
	if headline == "Canary failed" {
		if strings.HasPrefix(message, "Failed checks threshold reached ") || strings.HasPrefix(message, "Canary failed!") ||
			message == "Rolling back manual webhook invoked" || strings.HasPrefix(message, "Progress deadline exceeded ") || message == "Ended" {
			return "FlaggerCanaryFailed"
		}
		return "canary_rollback"
	}
	if n, ok := headlines[headline]; ok {
		return n
	}
	return headline
}

var (
	slackFiring   = regexp.MustCompile(`^\S+ \*(.+?)\*(?: · (.+))?$`)
	teamsFiring   = regexp.MustCompile(`^\S+ \*\*(.+?)\*\*(?: · (.+))?$`)
	endedLine     = regexp.MustCompile(`^\S+ (Ended|Resolved): (.+?)(?: · (.+))?$`)
	factsLine     = regexp.MustCompile(`^(Target|Phase|Weight|Failed checks|Severity): |^(<|\[)`)
	teamsEscape   = regexp.MustCompile("\\\\([\\\\`*_\\[\\]<>#])")
	slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// DecodeSlack reads an Alertmanager Slack message rendered with
// slack.flagger.*; it checks Flagger's username and icon.
func DecodeSlack(body []byte) (Notification, error) {
	var m struct {
		Username    string `json:"username"`
		IconEmoji   string `json:"icon_emoji"`
		Attachments []struct {
			Title, Text, Fallback, Color string
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return Notification{}, fmt.Errorf("slack body: %w", err)
	}
	if len(m.Attachments) != 1 || m.Username != "flagger" || m.IconEmoji != ":rocket:" {
		return Notification{}, fmt.Errorf("slack body is not one attachment from flagger :rocket:: %s", body)
	}
	a := m.Attachments[0]
	n := Notification{Title: slackEntities.Replace(a.Title), Color: a.Color}
	lines := strings.Split(a.Text, "\n")
	for i, l := range lines {
		if g := slackFiring.FindStringSubmatch(l); g != nil {
			e := Entry{Object: slackEntities.Replace(g[2])}
			rest := lines[i+1:]
			if len(rest) > 0 && strings.HasPrefix(rest[0], "> ") {
				e.Message, rest = slackEntities.Replace(strings.TrimPrefix(rest[0], "> ")), rest[1:]
			}
			if len(rest) > 0 && factsLine.MatchString(rest[0]) {
				e.Facts = slackEntities.Replace(rest[0])
			}
			e.Alert = alertName(g[1], e.Message)
			n.Firing = append(n.Firing, e)
		} else if g := endedLine.FindStringSubmatch(l); g != nil {
			n.Ended = append(n.Ended, Entry{Alert: alertName(g[2], g[1]), Object: slackEntities.Replace(g[3])})
		}
	}
	return n, nil
}

// DecodeTeams reads an Alertmanager msteamsv2 (Teams Workflows) message
// rendered with msteamsv2.flagger.*: an Adaptive Card with a title and a
// text block.
func DecodeTeams(body []byte) (Notification, error) {
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type string `json:"type"`
				Body []struct{ Type, Text string }
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return Notification{}, fmt.Errorf("teams body: %w", err)
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		m.Attachments[0].Content.Type != "AdaptiveCard" || len(m.Attachments[0].Content.Body) != 2 {
		return Notification{}, fmt.Errorf("teams body is not an Adaptive Card with a title and a text: %s", body)
	}
	blocks := m.Attachments[0].Content.Body
	unesc := func(s string) string { return teamsEscape.ReplaceAllString(s, "$1") }
	n := Notification{Title: unesc(blocks[0].Text)}
	paras := strings.Split(blocks[1].Text, "\n\n")
	for i, p := range paras {
		if g := teamsFiring.FindStringSubmatch(p); g != nil {
			e := Entry{Object: unesc(g[2])}
			rest := paras[i+1:]
			if len(rest) > 0 && rest[0] != "" && !factsLine.MatchString(rest[0]) && !teamsFiring.MatchString(rest[0]) {
				e.Message, rest = unesc(rest[0]), rest[1:]
			}
			if len(rest) > 0 && factsLine.MatchString(rest[0]) {
				e.Facts = unesc(rest[0])
			}
			e.Alert = alertName(g[1], e.Message)
			n.Firing = append(n.Firing, e)
		} else if g := endedLine.FindStringSubmatch(p); g != nil {
			n.Ended = append(n.Ended, Entry{Alert: alertName(g[2], g[1]), Object: unesc(g[3])})
		}
	}
	return n, nil
}

// DecodeEvent reads a Flagger event-webhook body strictly: exactly Flagger's
// fields, and metadata holding at least Flagger's three keys.
func DecodeEvent(body []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("event body %s: %w", body, err)
	}
	for _, k := range []string{"eventMessage", "eventType", "timestamp"} {
		if e.Metadata[k] == "" {
			return e, fmt.Errorf("event body without metadata.%s: %s", k, body)
		}
	}
	if e.Name == "" || e.Namespace == "" || e.Phase == "" || e.Checksum == "" {
		return e, fmt.Errorf("event body with an empty field: %s", body)
	}
	return e, nil
}
