package amconfig

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/marker"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/client_golang/prometheus"
)

// routeOf is where an alert goes: receiver and the labels it is grouped by.
type routeOf struct {
	receiver string
	groupBy  string
}

func matchRoutes(root *dispatch.Route, a *alert.Alert) []routeOf {
	var out []routeOf
	for _, r := range root.Match(a.Labels) {
		var gb []string
		for ln := range r.RouteOpts.GroupBy {
			gb = append(gb, string(ln))
		}
		sort.Strings(gb)
		if r.RouteOpts.GroupByAll {
			gb = []string{"..."}
		}
		out = append(out, routeOf{r.RouteOpts.Receiver, strings.Join(gb, ",")})
	}
	return out
}

const (
	perCanary   = "canary,cluster,namespace"
	perWorkload = "cluster,name,namespace"
	perAlert    = "..."
	pagerGroup  = "alertname,canary,cluster,name,namespace"
	legacyGroup = "canary,cluster,name,namespace"
)

var (
	adapter = routeOf{"flagger-event-adapter", perAlert}
	chat    = routeOf{"flagger-chat", perCanary}
	notices = routeOf{"flagger-chat-notices", perAlert}
	none    = routeOf{"flagger-none", perCanary}
	noStep  = routeOf{"flagger-none", perAlert} // one group a step, should a receiver be set
	pager   = routeOf{"flagger-pager", pagerGroup}
	legacy  = routeOf{"flagger-teams-legacy", legacyGroup}
)

// Each alert reaches exactly the intended receivers, in route order:
// lifecycle steps go to the adapter and chat and never to the pager, critical
// alerts add the pager, non-Flagger alerts stay on the default route.
func TestRouting(t *testing.T) {
	cfg := loadConfig(t)
	root := dispatch.NewRoute(cfg.Route, nil)
	lc := lifecycleAlerts("podinfo", "test")
	withLegacy := problem("FlaggerCanaryWaitingPromotionTooLong", "warning", "podinfo", "test", map[string]string{"flagger_teams_legacy": "true"})
	exporterRollback := flaggerRollback("podinfo", "test")
	exporterRollback.Labels["canary"] = "podinfo"

	cases := []struct {
		name  string
		alert *alert.Alert
		want  []routeOf
	}{
		// One chat message per notice, as Flagger posts its own.
		{"Initialized", lc["FlaggerCanaryInitialized"], []routeOf{adapter, notices}},
		{"NewRevision", lc["FlaggerCanaryNewRevision"], []routeOf{adapter, notices}},
		{"Waiting", lc["FlaggerCanaryWaiting"], []routeOf{adapter, notices}},
		{"WaitingPromotion", lc["FlaggerCanaryWaitingPromotion"], []routeOf{adapter, notices}},
		{"Promoted", lc["FlaggerCanaryPromoted"], []routeOf{adapter, notices}},
		{"Failed", lc["FlaggerCanaryFailed"], []routeOf{adapter, notices}},
		// Read from Flagger's Events, which the exporter relays itself: chat only.
		{"WaitingTrafficIncrease", lifecycle("FlaggerCanaryWaitingTrafficIncrease", "Progressing", "Halt podinfo.test advancement waiting for traffic increase approval", "Canary traffic increase is waiting for approval.", "podinfo", "test"), []routeOf{notices}},
		// A per-step event relayed by the exporter: an event, no chat message.
		{"Step", step("podinfo", "test"), []routeOf{adapter, noStep}},
		// The Failed notice is Flagger's one rollback message and event: no
		// second one in chat or to the adapter.
		{"RolledBack warning", rolledBack("podinfo", "test"), []routeOf{none}},
		{"RolledBack critical", problem("FlaggerCanaryRolledBack", "critical", "podinfo", "test", nil), []routeOf{pager, none}},
		{"ProgressDeadlineExceeded", problem("FlaggerCanaryProgressDeadlineExceeded", "critical", "podinfo", "test", nil), []routeOf{adapter, pager, chat}},
		{"FailedChecksRising", problem("FlaggerCanaryFailedChecksRising", "info", "podinfo", "test", nil), []routeOf{adapter, chat}},
		{"RolledBackBelowThreshold", problem("FlaggerCanaryRolledBackBelowThreshold", "warning", "podinfo", "test", nil), []routeOf{adapter, chat}},
		{"ExporterDown", exporterAlert("FlaggerExporterDown", "critical"), []routeOf{adapter, pager, chat}},
		{"ExporterNotSynced", exporterAlert("FlaggerExporterNotSynced", "warning"), []routeOf{adapter, chat}},
		// No event for canary_rollback: Flagger sends none, and the mixin's
		// own rollback alerts give the Failed events.
		{"Flagger's canary_rollback", flaggerRollback("frontend", "prod"), []routeOf{{"flagger-chat", perWorkload}}},
		{"exporter's canary_rollback", exporterRollback, []routeOf{{"flagger-chat", perWorkload}}},
		{"legacy Teams opt-in", withLegacy, []routeOf{adapter, legacy, chat}},
		{"not a canary alert", newAlert(false, map[string]string{"alertname": "KubePodCrashLooping", "severity": "critical", "namespace": "test"}, nil),
			[]routeOf{{"default", "alertname,cluster,namespace"}}},
	}
	for _, c := range cases {
		if got := matchRoutes(root, c.alert); !slices.Equal(got, c.want) {
			t.Errorf("%s: routes %v, want %v", c.name, got, c.want)
		}
	}
}

// Lifecycle notifications must never page, whatever else they carry.
func TestInfoNeverPages(t *testing.T) {
	root := dispatch.NewRoute(loadConfig(t).Route, nil)
	for name, a := range lifecycleAlerts("podinfo", "test") {
		a.Labels["flagger_teams_legacy"] = "true"
		for _, r := range matchRoutes(root, a) {
			if r.receiver == "flagger-pager" || r.receiver == "default" {
				t.Errorf("%s reaches %s", name, r.receiver)
			}
		}
	}
}

// The chat route's timing makes one rollout one conversation: prompt first
// message, short updates, rare repeats, resolved messages on.
func TestChatTiming(t *testing.T) {
	cfg := loadConfig(t)
	flagger := cfg.Route.Routes[0]
	if time.Duration(*flagger.GroupWait) > 30*time.Second || time.Duration(*flagger.GroupInterval) > 5*time.Minute || time.Duration(*flagger.RepeatInterval) < 4*time.Hour {
		t.Errorf("chat timing wait=%v interval=%v repeat=%v", flagger.GroupWait, flagger.GroupInterval, flagger.RepeatInterval)
	}
	// Problems say when they clear; a notice does not "end" in chat, the
	// next step is its own message.
	for _, r := range cfg.Receivers {
		want := r.Name != "flagger-chat-notices"
		for _, c := range r.SlackConfigs {
			if c.SendResolved() != want {
				t.Errorf("%s: slack send_resolved %v, want %v", r.Name, c.SendResolved(), want)
			}
		}
		for _, c := range r.MSTeamsV2Configs {
			if c.SendResolved() != want {
				t.Errorf("%s: msteamsv2 send_resolved %v, want %v", r.Name, c.SendResolved(), want)
			}
		}
	}
	// The notices' receiver is the chat receiver's channels, nothing else.
	var chat, notices *config.Receiver
	for i := range cfg.Receivers {
		switch cfg.Receivers[i].Name {
		case "flagger-chat":
			chat = &cfg.Receivers[i]
		case "flagger-chat-notices":
			notices = &cfg.Receivers[i]
		}
	}
	if chat == nil || notices == nil || len(chat.SlackConfigs) != 1 || len(notices.SlackConfigs) != 1 ||
		chat.SlackConfigs[0].APIURLFile != notices.SlackConfigs[0].APIURLFile || chat.SlackConfigs[0].Text != notices.SlackConfigs[0].Text ||
		len(chat.MSTeamsV2Configs) != 1 || len(notices.MSTeamsV2Configs) != 1 || chat.MSTeamsV2Configs[0].WebhookURLFile != notices.MSTeamsV2Configs[0].WebhookURLFile {
		t.Errorf("flagger-chat-notices must post to flagger-chat's Slack and Teams with the same templates")
	}
}

// Alertmanager's dispatcher, fed a rollout's alerts, puts each notice in a
// group of its own (one message per Flagger notification), a canary's
// problems in one chat group, gives the adapter one group per alert, and
// keeps canaries apart.
func TestOneMessagePerNotice(t *testing.T) {
	cfg := loadConfig(t)
	lc := lifecycleAlerts("podinfo", "test")
	groups := dispatchGroups(t, cfg,
		lc["FlaggerCanaryNewRevision"],
		lc["FlaggerCanaryWaitingPromotion"],
		problem("FlaggerCanaryFailedChecksRising", "info", "podinfo", "test", nil),
		problem("FlaggerCanaryWaitingPromotionTooLong", "warning", "podinfo", "test", nil),
		lifecycleAlerts("frontend", "test")["FlaggerCanaryNewRevision"],
	)
	chatGroups := map[string]int{}
	noticeGroups, adapterGroups := 0, 0
	for _, g := range groups {
		switch g.Receiver {
		case "flagger-chat":
			chatGroups[string(g.Labels["canary"])] = len(g.Alerts)
		case "flagger-chat-notices":
			noticeGroups++
			if len(g.Alerts) != 1 {
				t.Errorf("notice group %v has %d alerts, want one message per notice", g.Labels, len(g.Alerts))
			}
		case "flagger-event-adapter":
			adapterGroups++
			if len(g.Alerts) != 1 {
				t.Errorf("adapter group %v has %d alerts", g.Labels, len(g.Alerts))
			}
		default:
			t.Errorf("unexpected receiver %s", g.Receiver)
		}
	}
	if chatGroups["podinfo"] != 2 || len(chatGroups) != 1 || noticeGroups != 3 || adapterGroups != 5 {
		t.Errorf("chat groups %v, notice groups %d, adapter groups %d", chatGroups, noticeGroups, adapterGroups)
	}
}

// dispatchGroups runs Alertmanager's dispatcher over the alerts and returns
// its aggregation groups (no notification is sent: the stage is a no-op).
func dispatchGroups(t *testing.T, cfg *config.Config, alerts ...*alert.Alert) dispatch.AlertGroups {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	provider, err := mem.NewAlerts(context.Background(), time.Hour, 0, nil, log, eventrecorder.NopRecorder(), reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer provider.Close()
	noop := notify.StageFunc(func(ctx context.Context, _ *slog.Logger, as ...*alert.Alert) (context.Context, []*alert.Alert, error) {
		return ctx, as, nil
	})
	d := dispatch.NewDispatcher(provider, dispatch.NewRoute(cfg.Route, nil), noop, marker.NewGroupMarker(),
		func(time.Duration) time.Duration { return 0 }, time.Hour, nil, log, eventrecorder.NopRecorder(),
		dispatch.NewDispatcherMetrics(false, reg, nil), nil)
	go d.Run(time.Now())
	defer d.Stop()
	if err := provider.Put(context.Background(), alerts...); err != nil {
		t.Fatal(err)
	}
	all := func(*dispatch.Route) bool { return true }
	every := func(*alert.Alert, time.Time) bool { return true }
	deadline := time.Now().Add(5 * time.Second)
	for {
		groups, _, err := d.Groups(context.Background(), all, every)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range groups {
			n += len(g.Alerts)
		}
		// Each alert lands in the adapter's group and one chat group.
		if n == 2*len(alerts) || time.Now().After(deadline) {
			return groups
		}
		time.Sleep(20 * time.Millisecond)
	}
}
