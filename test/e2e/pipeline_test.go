package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// TestPipeline drives three canaries in three namespaces through Flagger's
// phases and checks every hop: the exporter's metrics after each step,
// Prometheus's alerts (rules as shipped, `for` durations waited out),
// Alertmanager's Slack and Teams messages (example config and templates),
// and the Flagger events the adapter delivers. One succeeds, one fails,
// is rolled back and recovers with a new revision, one waits for promotion
// approval. Steps run as fast as the pipeline shows them; the one long
// wait is the rollback alerts' `for: 1m`, while the others run alongside.
func TestPipeline(t *testing.T) {
	start := time.Now()
	s := startStack(t, stack.Options{}, start)
	pipeline(t, s, start)
	t.Logf("TestPipeline took %v", time.Since(start).Round(time.Second))
}

// startStack starts the stack and logs where everything listens.
func startStack(t *testing.T, opts stack.Options, start time.Time) *stack.Stack {
	t.Helper()
	s := stack.Start(t, opts)
	t.Logf("stack up in %v: exporter %s, prometheus %s, alertmanager %s, adapter %s",
		time.Since(start).Round(time.Millisecond), s.ExporterURL, s.PrometheusURL, s.AlertmanagerURL, s.AdapterURL)
	return s
}

// pipeline is TestPipeline on a started stack (which may run other canaries
// in other namespaces): the three rollouts, then what reached chat and the
// event consumer about them, Prometheus's alert history in their
// namespaces, and every sink's deliveries.
func pipeline(t *testing.T, s *stack.Stack, start time.Time) {
	t.Helper()
	// The failing canary's name differs from its target's, as Flagger
	// allows: events and chat name the Canary, canary_rollback the target.
	a := &run{s: s, c: s.AddCanary(t, "team-a", "podinfo", "podinfo"), target: "podinfo"}
	b := &run{s: s, c: s.AddCanary(t, "team-b", "backend", "backend-api"), target: "backend-api"}
	c := &run{s: s, c: s.AddCanary(t, "team-c", "frontend", "frontend"), target: "frontend"}

	t.Run("rollouts", func(t *testing.T) {
		t.Run("succeeds", func(t *testing.T) {
			t.Parallel()
			a.t = t
			a.play(sim.Initialize())
			a.play(sim.SuccessfulRollout(3))
		})
		t.Run("fails and recovers", func(t *testing.T) {
			t.Parallel()
			b.t = t
			b.play(sim.Initialize())
			b.play(sim.FailedRollout(5)) // harness.NewCanary's threshold
			b.waitRollbackAlerts()
			t.Logf("rollback alerts fired %v after the Failed write (for: 1m)", time.Since(b.c.Status().LastTransitionTime).Round(time.Second))
			b.waitChat("rolled back", []string{failed})
			b.waitEvent(failed, "Warning")
			b.play(sim.Recover(2))
			b.waitRollbackResolved()
		})
		t.Run("waits for approval", func(t *testing.T) {
			t.Parallel()
			c.t = t
			c.play(sim.Initialize())
			c.play(sim.WaitForApproval(2))
			// Held: nothing more is announced while the webhook says no.
			n := len(chat(t, s.Slack, c.object()))
			time.Sleep(5 * time.Second)
			if m := len(chat(t, s.Slack, c.object())); m != n {
				t.Errorf("%d more messages while waiting for approval", m-n)
			}
			c.play(sim.Promote())
		})
	})
	if t.Failed() {
		return
	}
	// Late duplicates would arrive within a chat group_interval (2s) of an
	// evaluation; give them twice that before counting.
	time.Sleep(5 * time.Second)

	checkChat(t, s, a.object(), [][]string{{initialized}, {newRevision}, {promoted}})
	// The rollback is one message, the Failed notice ("Failed checks
	// threshold reached N"), as in Flagger: FlaggerCanaryRolledBack stays out
	// of chat.
	checkChat(t, s, b.object(), [][]string{{initialized}, {newRevision}, {failed}, {newRevision}, {promoted}})
	checkChat(t, s, c.object(), [][]string{{initialized}, {newRevision}, {waiting}, {promoted}})

	checkEvents(t, s, "team-a", "podinfo", []wantEvent{
		{initialized, "Initialized", "Normal", "Initialization done! podinfo.team-a"},
		{newRevision, "Progressing", "Normal", "New revision detected! Scaling up podinfo.team-a"},
		{promoted, "Succeeded", "Normal", "Promotion completed! Scaling down podinfo.team-a"},
	}, start)
	checkEvents(t, s, "team-b", "backend", []wantEvent{
		{initialized, "Initialized", "Normal", "Initialization done! backend.team-b"},
		{newRevision, "Progressing", "Normal", "New revision detected! Scaling up backend-api.team-b"},
		{failed, "Failed", "Warning", "Canary failed! Scaling down backend.team-b"},
		{newRevision, "Progressing", "Normal", "New revision detected! Scaling up backend-api.team-b"},
		{promoted, "Succeeded", "Normal", "Promotion completed! Scaling down backend-api.team-b"},
	}, start)
	checkEvents(t, s, "team-c", "frontend", []wantEvent{
		{initialized, "Initialized", "Normal", "Initialization done! frontend.team-c"},
		{newRevision, "Progressing", "Normal", "New revision detected! Scaling up frontend.team-c"},
		// A Warning, as Flagger's own "Halt …" events are.
		{waiting, "WaitingPromotion", "Warning", "Halt frontend.team-c advancement waiting for promotion approval"},
		{promoted, "Succeeded", "Normal", "Promotion completed! Scaling down frontend.team-c"},
	}, start)

	checkAlertHistory(t, s)
	checkDeliveries(t, s)
}

// waitRollbackAlerts waits for canary_rollback and FlaggerCanaryRolledBack
// to fire in Prometheus for this canary, and checks neither is even pending
// for any other.
func (r *run) waitRollbackAlerts() {
	r.t.Helper()
	harness.Eventually(r.t, 100*time.Second, func() string {
		alerts, err := r.s.Alerts()
		if err != nil {
			return err.Error()
		}
		var firing []string
		for _, a := range alerts {
			n := a.Labels["alertname"]
			if n != rolledBack && n != flaggerRollbk {
				continue
			}
			if a.Labels["namespace"] != r.c.Namespace || a.Labels["name"] != r.target {
				r.t.Fatalf("%s %s for another canary: %v", n, a.State, a.Labels)
			}
			if n == rolledBack && (a.Labels["canary"] != r.c.Name || a.Labels["target_name"] != r.target || a.Labels["phase"] != "Failed") {
				r.t.Errorf("%s labels %v", n, a.Labels)
			}
			if a.State == "firing" {
				firing = append(firing, n)
			}
		}
		if slices.Sort(firing); !slices.Equal(firing, []string{rolledBack, flaggerRollbk}) {
			return fmt.Sprintf("firing %v, want both rollback alerts for %s", firing, r.object())
		}
		return ""
	})
}

// waitRollbackResolved waits for both rollback alerts to leave Prometheus
// after the recovery.
func (r *run) waitRollbackResolved() {
	r.t.Helper()
	harness.Eventually(r.t, 30*time.Second, func() string {
		alerts, err := r.s.Alerts()
		if err != nil {
			return err.Error()
		}
		for _, a := range alerts {
			if n := a.Labels["alertname"]; n == rolledBack || n == flaggerRollbk {
				return fmt.Sprintf("%s still %s after the recovery", n, a.State)
			}
		}
		return ""
	})
}

// waitEvent waits for the consumer to receive alertname's event.
func (r *run) waitEvent(alertname, eventType string) {
	r.t.Helper()
	harness.Eventually(r.t, 30*time.Second, func() string {
		for _, e := range eventsOf(r.t, r.s, r.c.Namespace, r.c.Name) {
			if e.alert() == alertname && e.Metadata["eventType"] == eventType {
				return ""
			}
		}
		return fmt.Sprintf("no %s %s event for %s", eventType, alertname, r.object())
	})
}

// checkAlertHistory asks Prometheus what fired during the whole test: the
// rollback alerts for team-b only, none of the problem alerts a clean run
// must not raise in the pipeline's namespaces (team-a, team-b, team-c).
func checkAlertHistory(t *testing.T, s *stack.Stack) {
	t.Helper()
	v, err := s.Query(`max by (alertname, namespace) (max_over_time(ALERTS{alertstate="firing", alertname=~"canary_rollback|FlaggerCanaryRolledBack"}[15m]))`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range v {
		got = append(got, x.Labels["alertname"]+" "+x.Labels["namespace"])
	}
	slices.Sort(got)
	if want := []string{"FlaggerCanaryRolledBack team-b", "canary_rollback team-b"}; !slices.Equal(got, want) {
		t.Errorf("rollback alerts that fired: %v, want %v", got, want)
	}
	v, err = s.Query(`max_over_time(ALERTS{alertstate="firing", alertname=~"FlaggerCanary(RolledBackBelowThreshold|PromotionFailed|FailedChecksRising|ProgressDeadlineExceeded|WaitingPromotionTooLong)", namespace=~"team-[abc]"}[15m])
		or max_over_time(ALERTS{alertstate="firing", alertname=~"FlaggerExporter.*"}[15m])`)
	if err != nil || len(v) != 0 {
		t.Errorf("problem alerts fired in a clean run: %v %v", v, err)
	}
}

// checkDeliveries: every sender got the answer it wanted and nothing went
// where it should not (the pager takes critical alerts only, legacy Teams
// the opt-in label only).
func checkDeliveries(t *testing.T, s *stack.Stack) {
	t.Helper()
	for _, k := range []*stack.Sink{s.Slack, s.Teams, s.TeamsLegacy, s.Pager, s.Events} {
		if bad := k.Bad(); len(bad) > 0 {
			t.Errorf("%s refused requests: %v", k.Name, bad)
		}
	}
	for _, k := range []*stack.Sink{s.TeamsLegacy, s.Pager} {
		if n := len(k.Messages()); n != 0 {
			t.Errorf("%s received %d messages during rollouts", k.Name, n)
		}
	}
	if n, m := len(s.Slack.Messages()), len(s.Teams.Messages()); n != m {
		t.Errorf("slack got %d messages, teams %d: they share a receiver", n, m)
	}
	for url, families := range map[string][]string{
		s.AlertmanagerURL: {"alertmanager_notifications_failed_total"},
		s.AdapterURL:      {"flagger_event_adapter_events_failed_total", "flagger_event_adapter_alerts_rejected_total"},
	} {
		f, err := harness.Scrape(t, url+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		for _, fam := range families {
			var total float64
			for _, v := range testutil.Values(f, fam, nil) {
				total += v
			}
			if total != 0 {
				t.Errorf("%s = %v", fam, total)
			}
		}
		if url == s.AdapterURL {
			for _, m := range f["flagger_event_adapter_requests_total"].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" && l.GetValue() != "200" && m.GetCounter().GetValue() > 0 {
						t.Errorf("adapter answered Alertmanager %s %v times", l.GetValue(), m.GetCounter().GetValue())
					}
				}
			}
		}
	}
}
