package amconfig

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/notify/msteams"
	"github.com/prometheus/alertmanager/notify/msteamsv2"
	"github.com/prometheus/alertmanager/notify/pagerduty"
	"github.com/prometheus/alertmanager/notify/slack"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// teamsMaxPayload is the largest message a Teams webhook accepts.
const teamsMaxPayload = 28 * 1024

// service is a loopback stand-in for Slack, Teams, PagerDuty or the event
// adapter that answers the way the real one does and keeps what it got.
type service struct {
	mu     sync.Mutex
	bodies [][]byte
	url    string
}

func newService(t *testing.T, status int, contentType, body string) *service {
	s := &service{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		s.mu.Unlock()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/hook/secret-path"
	return s
}

func (s *service) last(t *testing.T) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		t.Fatal("nothing was posted")
	}
	return s.bodies[len(s.bodies)-1]
}

// secretFile writes what the mounted secret would hold: the URL or key.
func secretFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func receiver(t *testing.T, cfg *config.Config, name string) config.Receiver {
	for _, r := range cfg.Receivers {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no receiver %q", name)
	return config.Receiver{}
}

// notifiers builds Alertmanager's own notifiers from the loaded example, with
// each *_file pointing at a secret file that holds a loopback URL.
type notifiers struct {
	slack, workflows, legacy, adapter, pager      notify.Notifier
	slackSrv, workflowsSrv, legacySrv, adapterSrv *service
	pagerSrv                                      *service
	tmpl                                          *template.Template
}

func newNotifiers(t *testing.T) *notifiers {
	cfg := loadConfig(t)
	n := &notifiers{tmpl: loadTemplates(t, cfg)}
	log := slog.New(slog.DiscardHandler)
	// What the real services answer: Slack "ok", Workflows 202 with no body,
	// a legacy connector "1", PagerDuty 202 with JSON.
	n.slackSrv = newService(t, http.StatusOK, "text/plain", "ok")
	n.workflowsSrv = newService(t, http.StatusAccepted, "", "")
	n.legacySrv = newService(t, http.StatusOK, "text/plain", "1")
	n.adapterSrv = newService(t, http.StatusOK, "", "")
	n.pagerSrv = newService(t, http.StatusAccepted, "application/json", `{"status":"success","message":"Event processed","dedup_key":"k"}`)

	chat := receiver(t, cfg, "flagger-chat")
	sc := *chat.SlackConfigs[0]
	sc.APIURLFile = secretFile(t, n.slackSrv.url)
	wc := *chat.MSTeamsV2Configs[0]
	wc.WebhookURLFile = secretFile(t, n.workflowsSrv.url)
	lc := *receiver(t, cfg, "flagger-teams-legacy").MSTeamsConfigs[0]
	lc.WebhookURLFile = secretFile(t, n.legacySrv.url)
	ac := *receiver(t, cfg, "flagger-event-adapter").WebhookConfigs[0]
	ac.URLFile = secretFile(t, n.adapterSrv.url)
	pc := *receiver(t, cfg, "flagger-pager").PagerdutyConfigs[0]
	pc.RoutingKeyFile = secretFile(t, "routing-key")
	u, _ := url.Parse(n.pagerSrv.url)
	pc.URL = &amcommoncfg.URL{URL: u}

	var err error
	must := func(e error) {
		if e != nil {
			t.Fatal(e)
		}
	}
	n.slack, err = slack.New(&sc, n.tmpl, log)
	must(err)
	n.workflows, err = msteamsv2.New(&wc, n.tmpl, log)
	must(err)
	n.legacy, err = msteams.New(&lc, n.tmpl, log)
	must(err)
	n.adapter, err = webhook.New(&ac, n.tmpl, log)
	must(err)
	n.pager, err = pagerduty.New(&pc, n.tmpl, log)
	must(err)
	return n
}

// send runs one notification the way the dispatcher does: the group key,
// receiver and group labels travel in the context.
func send(t *testing.T, n notify.Notifier, receiver string, alerts ...*alert.Alert) {
	t.Helper()
	group := model.LabelSet{}
	for _, ln := range chatGroupBy {
		group[ln] = alerts[0].Labels[ln]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = notify.WithGroupKey(ctx, `{}/{alertname=~"canary_rollback|Flagger.*"}:`+group.String())
	ctx = notify.WithReceiverName(ctx, receiver)
	ctx = notify.WithGroupLabels(ctx, group)
	ctx = notify.WithNotificationReason(ctx, notify.ReasonFirstNotification)
	if retry, err := n.Notify(ctx, alerts...); err != nil {
		t.Fatalf("%s: notify failed (retry %v): %v", receiver, retry, err)
	}
}

type slackMessage struct {
	Username    string `json:"username"`
	IconEmoji   string `json:"icon_emoji"`
	Attachments []struct {
		Title     string `json:"title"`
		TitleLink string `json:"title_link"`
		Text      string `json:"text"`
		Color     string `json:"color"`
		Fallback  string `json:"fallback"`
	} `json:"attachments"`
}

func checkSlack(t *testing.T, body []byte) slackMessage {
	t.Helper()
	var m slackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("slack payload is not JSON: %v\n%s", err, body)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("want one attachment: %s", body)
	}
	a := m.Attachments[0]
	if a.Title == "" || a.Text == "" || a.Fallback == "" || a.TitleLink == "" {
		t.Errorf("empty slack field: %+v", a)
	}
	switch a.Color {
	case "good", "warning", "danger", "#439FE0":
	default:
		t.Errorf("slack colour %q", a.Color)
	}
	if m.Username != "flagger" || m.IconEmoji != ":rocket:" {
		t.Errorf("slack username/icon = %q/%q, want Flagger's flagger/:rocket:", m.Username, m.IconEmoji)
	}
	return m
}

type textBlock struct {
	Type, Text string
}

// checkAdaptiveCard checks the structure Teams Workflows require and that no
// TextBlock is empty; it returns the title and text.
func checkAdaptiveCard(t *testing.T, body []byte) (string, string) {
	t.Helper()
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string      `json:"type"`
				Version string      `json:"version"`
				Body    []textBlock `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("workflows payload is not JSON: %v\n%s", err, body)
	}
	if m.Type != "message" || len(m.Attachments) != 1 {
		t.Fatalf("not a Workflows message: %s", body)
	}
	att := m.Attachments[0]
	if att.ContentType != "application/vnd.microsoft.card.adaptive" || att.Content.Type != "AdaptiveCard" || att.Content.Version == "" {
		t.Fatalf("not an Adaptive Card attachment: %s", body)
	}
	if len(att.Content.Body) != 2 {
		t.Fatalf("want a title and a text block: %s", body)
	}
	for _, b := range att.Content.Body {
		if b.Type != "TextBlock" || strings.TrimSpace(b.Text) == "" {
			t.Errorf("empty or odd block %+v", b)
		}
	}
	return att.Content.Body[0].Text, att.Content.Body[1].Text
}

func checkMessageCard(t *testing.T, body []byte) (string, string) {
	t.Helper()
	var m struct {
		Type, Title, Summary, Text, ThemeColor string
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("msteams payload is not JSON: %v\n%s", err, body)
	}
	if m.Type != "MessageCard" || m.Title == "" || m.Summary == "" || m.Text == "" || m.ThemeColor == "" {
		t.Errorf("incomplete MessageCard: %s", body)
	}
	return m.Title, m.Text
}

// Every receiver of the example posts a well-formed, non-empty message for a
// single step, a canary's group and its resolution.
func TestNotifiersPost(t *testing.T) {
	n := newNotifiers(t)
	lc := lifecycleAlerts("podinfo", "test")
	rb := rolledBack("podinfo", "test")
	cases := map[string][]*alert.Alert{
		"one":      {lc["FlaggerCanaryNewRevision"]},
		"group":    {lc["FlaggerCanaryFailed"], rb, resolvedCopy(lc["FlaggerCanaryNewRevision"])},
		"resolved": {resolvedCopy(lc["FlaggerCanaryFailed"]), resolvedCopy(rb)},
	}
	for name, alerts := range cases {
		t.Run(name, func(t *testing.T) {
			send(t, n.slack, "flagger-chat", alerts...)
			m := checkSlack(t, n.slackSrv.last(t))
			if !strings.Contains(m.Attachments[0].Title, "podinfo.test") {
				t.Errorf("slack title %q lacks canary.namespace", m.Attachments[0].Title)
			}
			send(t, n.workflows, "flagger-chat", alerts...)
			title, _ := checkAdaptiveCard(t, n.workflowsSrv.last(t))
			if !strings.Contains(title, "podinfo.test") {
				t.Errorf("card title %q lacks canary.namespace", title)
			}
			send(t, n.legacy, "flagger-teams-legacy", alerts...)
			checkMessageCard(t, n.legacySrv.last(t))
			send(t, n.pager, "flagger-pager", alerts...)
			var pd struct {
				RoutingKey, EventAction string
				Payload                 struct{ Summary string }
			}
			_ = json.Unmarshal(n.pagerSrv.last(t), &pd)
			if !strings.Contains(pd.Payload.Summary, "podinfo.test") {
				t.Errorf("pagerduty summary %q", pd.Payload.Summary)
			}

			send(t, n.adapter, "flagger-event-adapter", alerts...)
			var wh struct {
				Version, GroupKey, Status string
				TruncatedAlerts           int
				Alerts                    []struct{ Status string }
			}
			if err := json.Unmarshal(n.adapterSrv.last(t), &wh); err != nil {
				t.Fatal(err)
			}
			if wh.Version != "4" || wh.GroupKey == "" || len(wh.Alerts) != len(alerts) || wh.TruncatedAlerts != 0 {
				t.Errorf("webhook body: %+v", wh)
			}
		})
	}
}

// A group of 100 alerts, each with a 4 KB message, stays inside Teams'
// 28 KB: ten are listed and each message is cut at 300 characters. The
// figures are logged for docs/alertmanager.md.
func TestLargeGroupPayloadSize(t *testing.T) {
	n := newNotifiers(t)
	alerts := manyAlerts(100)
	for _, a := range alerts {
		a.Annotations["message"] = model.LabelValue(strings.Repeat("Rolling back <canary> & checks ", 130))
	}
	send(t, n.workflows, "flagger-chat", alerts...)
	card := n.workflowsSrv.last(t)
	checkAdaptiveCard(t, card)
	send(t, n.legacy, "flagger-teams-legacy", alerts...)
	legacy := n.legacySrv.last(t)
	send(t, n.slack, "flagger-chat", alerts...)
	sl := n.slackSrv.last(t)
	if !strings.Contains(string(card), "…") || !strings.Contains(string(sl), "…") {
		t.Error("long messages are not cut")
	}
	for name, b := range map[string][]byte{"workflows": card, "legacy teams": legacy} {
		if len(b) > teamsMaxPayload {
			t.Errorf("%s payload for 100 alerts is %d bytes, over Teams' %d", name, len(b), teamsMaxPayload)
		}
	}
	t.Logf("100-alert payloads: Teams Workflows %d B, legacy Teams %d B (limit %d B), Slack %d B", len(card), len(legacy), teamsMaxPayload, len(sl))
}

// Labels and annotations are data, not markup: quotes, markdown, Slack
// control sequences and newlines in them cannot change the message.
func TestHostileValuesAreEscaped(t *testing.T) {
	n := newNotifiers(t)
	a := lifecycleAlerts(`pod"info*_x_*`, "test")["FlaggerCanaryFailed"]
	a.Labels["cluster"] = `eu <!channel> & "prod"`
	// The chat text the templates print, and a hostile field.
	a.Annotations["notification"] = "Scaling **down** <@U123> & [click](http://evil) `x`\n# heading <http://evil|trust me>"
	a.Annotations["traffic_routing"] = "<!here> *bold*"
	a.Annotations["runbook_url"] = "https://runbooks/a b)|<x>"

	send(t, n.slack, "flagger-chat", a)
	m := checkSlack(t, n.slackSrv.last(t))
	at := m.Attachments[0]
	for _, s := range []string{at.Title, at.Text, at.Fallback} {
		for _, bad := range []string{"<!channel>", "<!here>", "<@U123>", "<http://evil", "& [", "\n# heading"} {
			if strings.Contains(s, bad) {
				t.Errorf("slack field carries raw %q:\n%s", bad, s)
			}
		}
	}
	for _, want := range []string{"&lt;!channel&gt;", "Traffic routing: &lt;!here&gt;", "&lt;@U123&gt;", "&amp; [click]", `pod"info*_x_*.test`, "<https://runbooks/a%20b)%7C%3Cx%3E|Runbook>"} {
		if !strings.Contains(at.Title+at.Text, want) {
			t.Errorf("slack message lacks %q:\n%s\n%s", want, at.Title, at.Text)
		}
	}

	send(t, n.workflows, "flagger-chat", a)
	title, text := checkAdaptiveCard(t, n.workflowsSrv.last(t))
	send(t, n.legacy, "flagger-teams-legacy", a)
	ltitle, ltext := checkMessageCard(t, n.legacySrv.last(t))
	for _, s := range []string{title + text, ltitle + ltext} {
		for _, bad := range []string{"**down**", "[click](", "\n# heading", "*_x_*"} {
			if strings.Contains(s, bad) {
				t.Errorf("teams message carries raw markdown %q:\n%s", bad, s)
			}
		}
		for _, want := range []string{`Traffic routing: \<!here\> \*bold\*`, `\*\*down\*\*`, `\[click\](http://evil)`, `\# heading`, `pod"info\*\_x\_\*.test`, "[Runbook](https://runbooks/a%20b%29|%3Cx%3E)"} {
			if !strings.Contains(s, want) {
				t.Errorf("teams message lacks %q:\n%s", want, s)
			}
		}
	}
}
