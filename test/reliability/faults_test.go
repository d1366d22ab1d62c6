package reliability

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// TestAdapterKilledMidBurst: SIGKILL the adapter while Alertmanager is
// delivering a burst, start it again on the same address. Alertmanager
// retries what was not answered, so every event arrives; what the consumer
// had accepted but the dead adapter never acknowledged comes again, at most
// once more per kill, under the same Idempotency-Key.
func TestAdapterKilledMidBurst(t *testing.T) {
	const n = 1000
	s := stack.Start(t, stack.Options{})
	if err := s.PostAlerts(steps("kill", n, 50)...); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 60*time.Second, func() string {
		if perKey, _ := deliveries(s); len(perKey) < n/5 {
			return fmt.Sprintf("%d of %d delivered before the kill", len(perKey), n)
		}
		return ""
	})
	a := s.Adapters[0]
	a.Kill()
	atKill, _ := deliveries(s)
	time.Sleep(2 * time.Second) // Alertmanager meets a closed port meanwhile
	s.RestartAdapter(t, a)
	perKey, total := settled(t, s, n, 3*time.Minute, 5*time.Second)
	h := copies(perKey)
	t.Logf("SIGKILL after %d of %d events: %d deliveries in all, copies per event %v", len(atKill), n, total, h)
	if len(perKey) != n {
		t.Errorf("%d distinct events delivered, want %d", len(perKey), n)
	}
	for k, events := range h {
		if k > 2 {
			t.Errorf("%d events arrived %d times after one kill", events, k)
		}
	}
}

// outage is how long the consumer is down in TestConsumerOutage: five
// minutes, or RELIABILITY_OUTAGE (a Go duration) for a quicker local run.
func outage(t *testing.T) time.Duration {
	if v := os.Getenv("RELIABILITY_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("RELIABILITY_OUTAGE: %v", err)
		}
		return d
	}
	return 5 * time.Minute
}

// rate is the load of TestConsumerOutage: 20 per-step events a second, ten
// times a busy fleet's normal (100 canaries each taking a step every 50 s
// is 2 a second).
const rate = 20

// TestConsumerOutage: the event consumer answers 503 for the whole outage
// while per-step events keep coming at ten times the normal rate. The
// adapter answers Alertmanager 503 for every one it could not deliver, so
// Alertmanager keeps them; its memory and Alertmanager's stay bounded; once
// the consumer is back every event arrives, exactly once.
func TestConsumerOutage(t *testing.T) {
	d := outage(t)
	s := stack.Start(t, stack.Options{})
	adapterPid := s.Adapters[0].Pid()
	base := rss(t, adapterPid)
	s.Events.Outage(http.StatusServiceUnavailable)
	start := time.Now()
	sent, peak := 0, base
	for i := 0; time.Since(start) < d; i++ {
		if err := s.PostAlerts(steps(fmt.Sprintf("outage-%d", i), rate, 100)...); err != nil {
			t.Fatal(err)
		}
		sent += rate
		peak = max(peak, rss(t, adapterPid))
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second)))
	}
	refused := s.Events.Refused()
	answered503 := counter(t, s.Adapters[0].URL, "flagger_event_adapter_requests_total", map[string]string{"code": "503"})
	s.Events.Outage(0)
	back := time.Now()
	perKey, total := settled(t, s, sent, 5*time.Minute, 5*time.Second)
	t.Logf("outage %v at %d events/s: %d events sent, consumer refused %d requests, adapter answered Alertmanager 503 %v times; "+
		"adapter RSS %.1f MiB before, %.1f MiB peak; all %d delivered %v after the consumer came back (%d deliveries)",
		d, rate, sent, refused, answered503, base, peak, len(perKey), time.Since(back).Round(time.Second), total)
	if len(perKey) != sent || total != sent {
		t.Errorf("%d distinct events in %d deliveries, want %d once each", len(perKey), total, sent)
	}
	if refused == 0 || answered503 == 0 {
		t.Errorf("the outage was not felt: consumer refused %d, adapter answered 503 %v times", refused, answered503)
	}
	if peak > base+64 {
		t.Errorf("adapter RSS grew from %.1f to %.1f MiB during the outage", base, peak)
	}
}

// rss is a process's resident set in MiB.
func rss(t *testing.T, pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatalf("no VmRSS for pid %d", pid)
	return 0
}

// counter sums a family's series matching labels on url's /metrics.
func counter(t *testing.T, url, family string, labels map[string]string) float64 {
	f, err := harness.Scrape(t, url+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	// A replica that delivered nothing to a target has no series for it.
	sum := 0.0
	for _, v := range testutil.Values(f, family, labels) {
		sum += v
	}
	return sum
}
