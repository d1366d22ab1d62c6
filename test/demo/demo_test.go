// Package demo is `make demo`: the end-to-end stack with the real Flagger
// controller rolling canaries out in a loop (one rolls back, one promotes),
// streaming what Flagger does and what Slack, Teams and the event consumer
// receive until Ctrl-C.
package demo

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

func TestMain(m *testing.M) { harness.Main(m) }

// loop is one canary's life under the real Flagger: a new revision, the
// rollout to a final phase, a rest long enough for alerts with `for: 1m` to
// fire, and again.
type loop struct {
	namespace, name, target string
	spec                    stack.CanarySpec
	// fails says whether rollout n (from 1) fails its analysis webhook.
	fails func(n int) bool
	rest  time.Duration
}

var loops = []loop{
	// Rolls back every other rollout: the analysis webhook fails, the
	// threshold of 2 is reached, Flagger routes back to the primary; the
	// next revision succeeds.
	{"team-a", "podinfo", "podinfo",
		stack.CanarySpec{Provider: "nginx", Interval: "10s", Threshold: 2, StepWeight: 20, MaxWeight: 60, Hooks: []string{"rollout"}},
		func(n int) bool { return n%2 == 1 }, 90 * time.Second},
	// Always promotes.
	{"team-b", "backend", "backend-api",
		stack.CanarySpec{Provider: "nginx", Interval: "10s", Threshold: 2, StepWeight: 25, MaxWeight: 50, Hooks: []string{"rollout"}},
		func(int) bool { return false }, 60 * time.Second},
}

// TestDemo runs until SIGINT or SIGTERM, then everything stops.
func TestDemo(t *testing.T) {
	if os.Getenv("FLAGGER_DEMO") != "1" {
		t.Skip("the demo runs until Ctrl-C: start it with `make demo`")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &printer{start: time.Now()}
	p.line("demo", "starting the API server, Flagger "+harness.FlaggerVersion+", flagger-exporter, Prometheus, Alertmanager and flagger-event-adapter …")
	s := stack.Start(t, stack.Options{WellKnownPorts: true, LogLevel: "warn",
		Flagger: &stack.FlaggerOptions{}, ExporterArgs: []string{"--flagger.mesh-provider=kubernetes"}})
	s.Slack.OnMessage(p.chat("slack", stack.DecodeSlack))
	s.Teams.OnMessage(p.chat("teams", stack.DecodeTeams))
	s.Events.OnMessage(p.event)
	s.Pager.OnMessage(p.raw)
	s.TeamsLegacy.OnMessage(p.raw)

	for _, l := range loops {
		s.AddFlaggerCanary(t, l.namespace, l.name, l.target, l.spec)
	}
	p.banner(s)

	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(ctx, t, s, p)
		}()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			if r := s.Exited(); r != "" {
				p.line("demo", "a process of the stack stopped, shutting down: "+r)
				stop()
			}
		}
	}
	p.line("demo", "stopping …")
	wg.Wait()
	s.Slack.OnMessage(nil)
	s.Teams.OnMessage(nil)
	s.Events.OnMessage(nil)
}

// run starts revision after revision and prints every status Flagger writes.
func (l loop) run(ctx context.Context, t *testing.T, s *stack.Stack, p *printer) {
	var last stack.CanaryStatus
	watch := func() stack.CanaryStatus {
		st := s.CanaryStatus(t, l.namespace, l.name)
		if st != last {
			p.step(l.namespace, l.name, st)
			last = st
		}
		return st
	}
	for n := 1; ctx.Err() == nil; n++ {
		s.Flagger.Hooks.Set(stack.HookPath(l.namespace, "rollout"), !l.fails(n))
		s.Cluster.NewRevision(t, l.namespace, l.target, n+1)
		p.line("demo", fmt.Sprintf("%s.%s revision %d (analysis webhook %s)", l.name, l.namespace, n+1, map[bool]string{true: "failing", false: "passing"}[l.fails(n)]))
		started := false
		for ctx.Err() == nil {
			st := watch()
			started = started || st.Phase == "Progressing"
			if started && (st.Phase == "Succeeded" || st.Phase == "Failed") {
				break
			}
			sleep(ctx, 500*time.Millisecond)
		}
		sleep(ctx, l.rest)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
