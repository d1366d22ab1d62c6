package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

const (
	infoInhibitor = "InfoInhibitor"
	checksRising  = "FlaggerCanaryFailedChecksRising" // severity=info
)

// TestKubePrometheusStackDefaults runs TestPipeline inside
// kube-prometheus-stack's defaults (stack.Options.KubePrometheusStack): its
// Alertmanager inhibit rules and routes around ours, its InfoInhibitor and
// Watchdog alerts in Prometheus. InfoInhibitor mutes every severity=info
// alert of a namespace where no warning or critical alert fires; the
// lifecycle notices are severity=notice so that it cannot mute them.
//
// TestPipeline's scenario raises no info alert that fires (its failed checks
// climb for seconds, FlaggerCanaryFailedChecksRising waits 1m), so a fourth
// canary, team-d, is held at 3 of 5 failed checks for the whole test:
// FlaggerCanaryFailedChecksRising (info) fires there, and so does
// InfoInhibitor.
func TestKubePrometheusStackDefaults(t *testing.T) {
	start := time.Now()
	s := startStack(t, stack.Options{KubePrometheusStack: true}, start)

	d := &run{t: t, s: s, c: s.AddCanary(t, "team-d", "cart", "cart"), target: "cart"}
	d.play(sim.Initialize())
	d.play(failingChecks(3))

	// (1) Every notice TestPipeline expects in chat and at the event
	// consumer arrives here too: pipeline checks the same messages.
	pipeline(t, s, start)
	if t.Failed() {
		return
	}

	// (2) The InfoInhibitor is live: it fired in team-d, Alertmanager
	// mutes team-d's info alert with it, and neither chat nor the event
	// consumer heard of that alert (without kps's inhibit rules both would
	// have: it routes to flagger-chat and the adapter).
	checkInfoInhibitorFired(t, s)
	harness.Eventually(t, 90*time.Second, func() string {
		as, err := s.AlertmanagerAlerts(`alertname="`+checksRising+`"`, `namespace="team-d"`)
		if err != nil || len(as) != 1 {
			return fmt.Sprintf("alertmanager holds %d %s for team-d (%v), want 1", len(as), checksRising, err)
		}
		return ""
	})
	checkInhibitedBy(t, s, `alertname="`+checksRising+`"`, `namespace="team-d"`)
	// The real notice in the same namespace is not muted.
	notice := amAlert(t, s, `alertname="`+newRevision+`"`, `namespace="team-d"`)
	if notice.Status.State != "active" || len(notice.Status.InhibitedBy) > 0 {
		t.Errorf("%s in team-d, where InfoInhibitor fires: status %+v, want active", newRevision, notice.Status)
	}
	time.Sleep(3 * time.Second) // longer than chat's group_wait (1s)
	checkChat(t, s, d.object(), [][]string{{initialized}, {newRevision}})
	checkEvents(t, s, "team-d", "cart", []wantEvent{
		{initialized, "Initialized", "Normal", "Initialization done! cart.team-d"},
		{newRevision, "Progressing", "Normal", "New revision detected! Scaling up cart.team-d"},
	}, start)

	// (3) Negative control: that notice relabelled severity=info, the
	// severity the notices had before, is muted in team-d. severity=notice
	// is all that lets the real ones through.
	chatBefore, eventsBefore := len(chat(t, s.Slack, d.object())), len(eventsOf(t, s, "team-d", "cart"))
	infoCopy := notice
	infoCopy.Labels = maps.Clone(notice.Labels)
	infoCopy.Labels["severity"] = "info"
	infoCopy.StartsAt, infoCopy.EndsAt = time.Now(), time.Now().Add(time.Minute)
	if err := s.PostAlerts(infoCopy.Alert); err != nil {
		t.Fatal(err)
	}
	checkInhibitedBy(t, s, `alertname="`+newRevision+`"`, `namespace="team-d"`, `severity="info"`)
	time.Sleep(3 * time.Second)
	if n, m := len(chat(t, s.Slack, d.object())), len(eventsOf(t, s, "team-d", "cart")); n != chatBefore || m != eventsBefore {
		t.Errorf("the severity=info copy of %s reached chat (%d new messages) or the event consumer (%d new events)", newRevision, n-chatBefore, m-eventsBefore)
	}
	t.Logf("TestKubePrometheusStackDefaults took %v", time.Since(start).Round(time.Second))
}

// failingChecks is FailedRollout's start held at n failed checks of its
// threshold 5: Flagger halting advancement at each analysis, not yet
// rolling back.
func failingChecks(n int64) sim.Scenario {
	sc := sim.FailedRollout(5)
	i := slices.IndexFunc(sc.Steps, func(st sim.Step) bool { return st.FailedChecks == n })
	sc.Name = fmt.Sprintf("%s held at %d failed checks", sc.Name, n)
	sc.Steps = sc.Steps[:i+1]
	return sc
}

// checkInfoInhibitorFired: Prometheus's InfoInhibitor fired in team-d, and
// only where an info alert was pending or firing (team-d; team-b while its
// failed checks climbed).
func checkInfoInhibitorFired(t *testing.T, s *stack.Stack) {
	t.Helper()
	v, err := s.Query(`max by (namespace) (max_over_time(ALERTS{alertname="` + infoInhibitor + `", alertstate="firing"}[15m]))`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range v {
		got = append(got, x.Labels["namespace"])
	}
	slices.Sort(got)
	t.Logf("InfoInhibitor fired in %v", got)
	if !slices.Contains(got, "team-d") || slices.ContainsFunc(got, func(ns string) bool { return ns != "team-b" && ns != "team-d" }) {
		t.Errorf("InfoInhibitor fired in %v, want team-d (and at most team-b besides)", got)
	}
}

// amAlert is the one alert Alertmanager holds that matches matchers.
func amAlert(t *testing.T, s *stack.Stack, matchers ...string) stack.AMAlert {
	t.Helper()
	as, err := s.AlertmanagerAlerts(matchers...)
	if err != nil || len(as) != 1 {
		t.Fatalf("alertmanager holds %d alerts matching %v (%v), want 1: %+v", len(as), matchers, err, as)
	}
	return as[0]
}

// checkInhibitedBy waits until the one alert matching matchers is
// suppressed by inhibition, by team-d's InfoInhibitor and nothing else.
func checkInhibitedBy(t *testing.T, s *stack.Stack, matchers ...string) {
	t.Helper()
	harness.Eventually(t, 10*time.Second, func() string {
		var inhibitors []string
		is, err := s.AlertmanagerAlerts(`alertname="`+infoInhibitor+`"`, `namespace="team-d"`)
		for _, a := range is {
			inhibitors = append(inhibitors, a.Fingerprint)
		}
		if err != nil || len(inhibitors) == 0 {
			return fmt.Sprintf("alertmanager holds no InfoInhibitor for team-d (%v)", err)
		}
		as, err := s.AlertmanagerAlerts(matchers...)
		if err != nil || len(as) != 1 {
			return fmt.Sprintf("alertmanager holds %d alerts matching %v (%v), want 1", len(as), matchers, err)
		}
		st := as[0].Status
		if st.State != "suppressed" || len(st.InhibitedBy) == 0 || len(st.SilencedBy) > 0 ||
			slices.ContainsFunc(st.InhibitedBy, func(fp string) bool { return !slices.Contains(inhibitors, fp) }) {
			return fmt.Sprintf("%s: status %+v, want suppressed by InfoInhibitor %v", strings.Join(matchers, ","), st, inhibitors)
		}
		return ""
	})
}
