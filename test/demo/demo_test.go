// Package demo is `make demo`: the end-to-end stack with canaries rolling
// out in a loop, streaming what Slack, Teams and the event consumer receive
// until Ctrl-C.
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
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

func TestMain(m *testing.M) { harness.Main(m) }

// loop is one simulated canary's life: Initialize once, then the same
// rollouts over and over.
type loop struct {
	namespace, name, target string
	rollouts                []rollout
}

// rollout plays a scenario with hold between steps, then stays in its last
// phase for rest (long enough for alerts with `for: 1m` to fire).
type rollout struct {
	sc   sim.Scenario
	hold time.Duration
	rest time.Duration
}

var loops = []loop{
	// Rolls back about every four minutes: fails, stays Failed long enough
	// for the rollback alerts, is fixed by a new revision.
	{"team-a", "podinfo", "podinfo", []rollout{
		{sim.FailedRollout(5), 3 * time.Second, 90 * time.Second},
		{sim.Recover(3), 3 * time.Second, 60 * time.Second},
	}},
	{"team-b", "backend", "backend-api", []rollout{
		{sim.SuccessfulRollout(5), 4 * time.Second, 60 * time.Second},
	}},
	{"team-b", "worker", "worker", []rollout{
		{sim.SuccessfulRollout(3), 5 * time.Second, 100 * time.Second},
	}},
	// Waits for approval, which comes half a minute later.
	{"team-c", "frontend", "frontend", []rollout{
		{sim.WaitForApproval(3), 4 * time.Second, 30 * time.Second},
		{sim.Promote(), 4 * time.Second, 75 * time.Second},
	}},
}

// TestDemo runs until SIGINT or SIGTERM, then everything stops.
func TestDemo(t *testing.T) {
	if os.Getenv("FLAGGER_DEMO") != "1" {
		t.Skip("the demo runs until Ctrl-C: start it with `make demo`")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &printer{start: time.Now()}
	p.line("demo", "starting the API server, flagger-exporter, Prometheus, Alertmanager and flagger-event-adapter …")
	s := stack.Start(t, stack.Options{WellKnownPorts: true, LogLevel: "warn"})
	s.Slack.OnMessage(p.chat("slack", stack.DecodeSlack))
	s.Teams.OnMessage(p.chat("teams", stack.DecodeTeams))
	s.Events.OnMessage(p.event)
	s.Pager.OnMessage(p.raw)
	s.TeamsLegacy.OnMessage(p.raw)

	sims := make([]*sim.Canary, len(loops))
	for i, l := range loops {
		sims[i] = s.AddCanary(t, l.namespace, l.name, l.target)
	}
	p.banner(s)

	var wg sync.WaitGroup
	for i, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.run(ctx, sims[i], p); err != nil && ctx.Err() == nil {
				p.line("sim", fmt.Sprintf("%s/%s stopped: %v", l.namespace, l.name, err))
			}
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

func (l loop) run(ctx context.Context, c *sim.Canary, p *printer) error {
	observe := func(st sim.Step, got sim.Status) error {
		p.step(c, st, got)
		return nil
	}
	if err := c.Run(ctx, sim.Initialize(), 5*time.Second, observe); err != nil {
		return err
	}
	for {
		for _, r := range l.rollouts {
			if err := c.Run(ctx, r.sc, r.hold, observe); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(r.rest):
			}
		}
	}
}
