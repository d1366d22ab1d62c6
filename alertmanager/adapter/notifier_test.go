package adapter_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

type notifyCtx = context.Context

// notifyLikeDispatcher calls Notify until it succeeds, the way Alertmanager's
// notification pipeline does: again while retry is true, give up otherwise.
func notifyLikeDispatcher(t *testing.T, n interface {
	Notify(context.Context, ...*alert.Alert) (bool, error)
}, alerts []*alert.Alert, maxCalls int) (calls int, err error) {
	for calls = 1; calls <= maxCalls; calls++ {
		ctx, cancel := context.WithTimeout(notifyContext(context.Background()), 10*time.Second)
		retry, err := n.Notify(ctx, alerts...)
		cancel()
		if err == nil {
			return calls, nil
		}
		if !retry {
			return calls, fmt.Errorf("Alertmanager would drop the notification: %w", err)
		}
	}
	return calls - 1, err
}

// TestAlertmanagerRetriesDeliverEachEventOnce: a consumer fails a while, then
// recovers. Between the adapter's retries and Alertmanager's, every event
// arrives, and none twice.
func TestAlertmanagerRetriesDeliverEachEventOnce(t *testing.T) {
	for name, failure := range map[string]int{"500": 500, "429": 429, "closed connection": -1} {
		t.Run(name, func(t *testing.T) {
			// Every third request fails for the first 30, so each notification
			// delivers some events and leaves others for the next one.
			c := newConsumer(t, func(n int) int {
				if n < 30 && n%3 != 2 {
					return failure
				}
				return 0
			})
			// Resolved problems are forwarded, so every alert is an event.
			e := newEnv(t, "mapping: {metadata: {labels: [i]}, forward_resolved_problems: true}\n"+targetConfig(c.URL))
			n := alertmanagerNotifier(t, e.webhookURL(), 0)
			start := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
			var alerts []*alert.Alert
			for i := range 12 {
				alerts = append(alerts, amAlert("FlaggerCanaryFailed", fmt.Sprintf("c%d", i%4), "warning", start.Add(time.Duration(i)*time.Second), i%3 == 0, "i", fmt.Sprintf("%02d", i)))
			}
			calls, err := notifyLikeDispatcher(t, n, alerts, 30)
			if err != nil {
				t.Fatalf("after %d calls: %v", calls, err)
			}
			if calls < 2 {
				t.Errorf("Alertmanager never had to retry (%d call); the test proves nothing", calls)
			}
			got := map[string]int{}
			for _, ev := range c.events() {
				got[ev.Checksum]++
			}
			if len(got) != 12 {
				t.Errorf("%d distinct events delivered, want 12", len(got))
			}
			for k, v := range got {
				if v != 1 {
					t.Errorf("event %s delivered %d times", k, v)
				}
			}
			assertOrderPerCanary(t, c.events())
		})
	}
}

// TestAlertmanagerRetriesWhileTargetIsDown: a consumer down for the whole
// request makes Notify fail with retry=true, which is what keeps the
// notification alive in Alertmanager.
func TestAlertmanagerRetriesWhileTargetIsDown(t *testing.T) {
	for name, fail := range map[string]int{"503": 503, "hang": -2, "closed connection": -1} {
		t.Run(name, func(t *testing.T) {
			c := newConsumer(t, func(int) int { return fail })
			e := newEnv(t, "global: {request_timeout: 500ms}\n"+targetConfig(c.URL))
			n := alertmanagerNotifier(t, e.webhookURL(), 5*time.Second)
			start := time.Now()
			retry, err := n.Notify(notifyContext(context.Background()), amAlert("FlaggerCanaryFailed", "podinfo", "warning", time.Now(), false))
			if err == nil || !retry {
				t.Fatalf("Notify = %v, %v; want an error with retry=true", retry, err)
			}
			if !strings.Contains(err.Error(), "503") {
				t.Errorf("error %v: want the adapter's 503", err)
			}
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("answered after %v; request_timeout is 500ms", took)
			}
		})
	}
}

// TestAlertmanagerGarbageIsFinal: a 400 target refusal is not worth
// Alertmanager's retries, so Notify succeeds.
func TestAlertmanagerTargetRefusalIsFinal(t *testing.T) {
	c := newConsumer(t, func(int) int { return 400 })
	e := newEnv(t, targetConfig(c.URL))
	retry, err := alertmanagerNotifier(t, e.webhookURL(), 0).Notify(notifyContext(context.Background()),
		amAlert("FlaggerCanaryFailed", "podinfo", "warning", time.Now(), false))
	if err != nil || retry || c.requests() != 1 {
		t.Fatalf("Notify = %v, %v after %d requests", retry, err, c.requests())
	}
}

// TestAlertmanagerLifecycleSequence: a rollout's alerts arrive as the events
// Flagger would send: lifecycle steps Normal, the failure Warning, and no
// event when the problem alert resolves (Flagger sends none for something
// that stopped), unless forward_resolved_problems asks for it.
func TestAlertmanagerLifecycleSequence(t *testing.T) {
	c := newConsumer(t, nil)
	e := newEnv(t, targetConfig(c.URL))
	n := alertmanagerNotifier(t, e.webhookURL(), 0)
	t0 := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	steps := []*alert.Alert{
		amAlert("FlaggerCanaryNewRevision", "podinfo", "info", t0, false, "lifecycle", "true"),
		amAlert("FlaggerCanaryWaitingPromotion", "podinfo", "warning", t0.Add(time.Minute), false, "lifecycle", "true"),
		amAlert("FlaggerCanaryPromoted", "podinfo", "info", t0.Add(2*time.Minute), false, "lifecycle", "true"),
		amAlert("FlaggerCanaryFailed", "podinfo", "warning", t0.Add(3*time.Minute), false),
		amAlert("FlaggerCanaryFailed", "podinfo", "warning", t0.Add(3*time.Minute), true),
	}
	for _, a := range steps {
		if _, err := notifyLikeDispatcher(t, n, []*alert.Alert{a}, 1); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, ev := range c.events() {
		if ev.Name != "podinfo" || ev.Namespace != "test" {
			t.Errorf("event for %s/%s", ev.Namespace, ev.Name)
		}
		got = append(got, ev.Phase+"/"+ev.Metadata[event.KeyType])
	}
	want := "Progressing/Normal WaitingPromotion/Normal Succeeded/Normal Failed/Warning"
	if strings.Join(got, " ") != want {
		t.Errorf("sequence\n got %s\nwant %s", strings.Join(got, " "), want)
	}

	c2 := newConsumer(t, nil)
	e2 := newEnv(t, "mapping: {forward_resolved_problems: true}\n"+targetConfig(c2.URL))
	n2 := alertmanagerNotifier(t, e2.webhookURL(), 0)
	if _, err := notifyLikeDispatcher(t, n2, []*alert.Alert{steps[len(steps)-1]}, 1); err != nil {
		t.Fatal(err)
	}
	if evs := c2.events(); len(evs) != 1 || evs[0].Phase != "Failed" || evs[0].Metadata[event.KeyType] != event.TypeNormal {
		t.Errorf("forward_resolved_problems: %+v, want one Normal event", evs)
	}
}

// assertOrderPerCanary: each canary's events arrive in notification order
// (label i, copied into metadata), across Alertmanager's retries too.
func assertOrderPerCanary(t *testing.T, evs []event.Event) {
	t.Helper()
	last := map[string]string{}
	for _, ev := range evs {
		i := ev.Metadata["i"]
		if i == "" {
			t.Fatalf("event without metadata i: %+v", ev)
		}
		if i <= last[ev.Name] {
			t.Errorf("%s: event %s after %s", ev.Name, i, last[ev.Name])
		}
		last[ev.Name] = i
	}
}
