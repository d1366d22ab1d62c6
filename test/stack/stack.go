// Package stack runs the whole pipeline on one machine for the end-to-end
// test and the demo: an in-process kube-apiserver with Flagger's Canary CRD,
// the flagger-exporter built from this tree, a real Prometheus loading
// rules/*.yaml as shipped, a real Alertmanager loading
// alertmanager/alertmanager.yml and its templates (only secrets, URLs and
// group timings rewritten, see amRewrites; optionally inside
// kube-prometheus-stack's defaults, see Options.KubePrometheusStack), the
// flagger-event-adapter built
// from this tree, and loopback sinks standing in for Slack, Teams Workflows,
// legacy Teams, PagerDuty and an event consumer.
package stack

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// Options change how the stack runs, never what it runs (except
// KubePrometheusStack, which adds another chart's defaults to it).
type Options struct {
	// WellKnownPorts puts Prometheus, Alertmanager and the exporter on
	// 9090, 9093 and 9797 when those are free (the demo); otherwise, and by
	// default, every listener takes a free port.
	WellKnownPorts bool
	// LogLevel of the child processes; default info. Their output is kept
	// in memory and shown only when a test fails.
	LogLevel string
	// Flagger runs the real Flagger controller (bin/flagger) with Flagger's
	// own CRDs, the readiness stand-in and webhook gates, scraped by
	// Prometheus as job "flagger" the way Flagger's chart does; see
	// StartFlagger. Without it canaries are driven by test/sim.
	Flagger *FlaggerOptions
	// ExporterArgs are extra flags for flagger-exporter.
	ExporterArgs []string
	// KubePrometheusStack runs the pipeline inside kube-prometheus-stack's
	// defaults, as most users install it: Alertmanager gets that chart's
	// default config (its inhibit rules, among them the InfoInhibitor's,
	// and its Watchdog route) with ours merged in (see
	// kpsAlertmanagerConfig), and Prometheus also evaluates its
	// Watchdog and InfoInhibitor alerts. Both are verbatim copies in
	// testdata/kube-prometheus-stack.
	KubePrometheusStack bool
	// HA runs Alertmanager as two peers gossiping on loopback
	// (--cluster.peer), as production does, and flagger-event-adapter as
	// two replicas behind a balancer that alternates per request (a
	// Service, at its least sticky); Prometheus and the exporter alert
	// both peers. See ha.go.
	HA bool
	// Partitioned (with HA) keeps the two peers from ever gossiping: each
	// notifies on its own, as both sides of a network partition do.
	Partitioned bool
	// SeparateAdapters (with HA) leaves cluster.peers out of the adapter
	// replicas' config: each keeps its own idempotency window.
	SeparateAdapters bool
	// ResendDelay is Prometheus's --rules.alert.resend-delay; default
	// 500ms (see startPrometheus). An alert Prometheus stops sending
	// resolves in Alertmanager four resend delays (or evaluation
	// intervals, whichever is longer) after its last send.
	ResendDelay time.Duration
}

// Stack is a running pipeline. Everything stops when the test ends.
type Stack struct {
	Cluster *harness.Cluster

	ExporterURL, PrometheusURL, AlertmanagerURL, AdapterURL string
	// AlertmanagerURLs are every peer; AlertmanagerURL is the first.
	AlertmanagerURLs []string
	// Adapters are the adapter replicas; with HA, AdapterURL is the
	// balancer in front of them.
	Adapters []*Adapter

	// Slack answers "ok" like Slack; Teams answers 202 with an empty body
	// like a Teams Workflows URL; TeamsLegacy and Pager should stay silent
	// in a rollout (opt-in label, critical alerts only); Events is the
	// consumer of Flagger event-webhook calls behind the adapter.
	Slack, Teams, TeamsLegacy, Pager, Events *Sink

	// Set in Flagger mode (Options.Flagger).
	Flagger *Flagger

	opts  Options
	dir   string
	procs []*harness.Process

	prometheus     *harness.Process
	prometheusArgs []string
}

// Start brings the stack up and waits until Prometheus scrapes the exporter,
// has loaded every rule and knows the Alertmanager.
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	s := &Stack{opts: opts, dir: t.TempDir()}

	var seq atomic.Int64
	s.Slack = newSink("slack", &seq, http.StatusOK, "text/plain", "ok")
	s.Teams = newSink("teams", &seq, http.StatusAccepted, "", "")
	s.TeamsLegacy = newSink("teams-legacy", &seq, http.StatusOK, "text/plain", "1")
	s.Pager = newSink("pager", &seq, http.StatusAccepted, "application/json", `{"status":"success","message":"Event processed"}`)
	s.Events = newSink("event", &seq, http.StatusAccepted, "", "")
	for _, k := range s.sinks() {
		t.Cleanup(k.close)
	}

	s.Cluster = harness.Start(t)
	var flaggerAddr string
	if opts.Flagger != nil {
		s.Cluster.InstallCRDs(t, harness.FlaggerCRDs(t))
		flaggerAddr = s.startFlagger(t, *opts.Flagger, &seq)
	} else {
		s.Cluster.InstallCRDs(t, harness.CanaryCRD())
	}

	exporterAddr := s.addr(t, 9797)
	amAddrs := []string{s.addr(t, 9093)}
	if opts.HA {
		amAddrs = append(amAddrs, harness.FreeAddr(t))
	}
	// The exporter relays Flagger's per-step Events to every Alertmanager
	// peer, as Prometheus alerts each; it retries until they are up.
	var relay []string
	for _, a := range amAddrs {
		relay = append(relay, "--events.alertmanager-url=http://"+a)
	}
	s.startExporter(t, exporterAddr, relay...)
	s.startAdapters(t)
	s.startAlertmanagers(t, amAddrs)
	s.startPrometheus(t, s.addr(t, 9090), amAddrs, exporterAddr, flaggerAddr)
	s.promReady(t)
	return s
}

func (s *Stack) sinks() []*Sink { return []*Sink{s.Slack, s.Teams, s.TeamsLegacy, s.Pager, s.Events} }

// addr is 127.0.0.1:port when WellKnownPorts is set and port is free, else
// a free port.
func (s *Stack) addr(t testing.TB, port int) string {
	if s.opts.WellKnownPorts {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			a := l.Addr().String()
			l.Close()
			return a
		}
	}
	return harness.FreeAddr(t)
}

// Exited names a child process of the stack that is no longer running
// ("" while all run).
func (s *Stack) Exited() string {
	procs := s.procs
	if s.Flagger != nil {
		procs = append(procs[:len(procs):len(procs)], s.Flagger.Process)
	}
	for _, p := range procs {
		if p.Exited() {
			return fmt.Sprintf("%s exited:\n%s", p.Name, p.Output())
		}
	}
	return ""
}

func (s *Stack) startExporter(t testing.TB, addr string, extra ...string) {
	t.Helper()
	s.ExporterURL = "http://" + addr
	args := append([]string{"--kubeconfig", s.Cluster.Kubeconfig, "--web.listen-address", addr, "--log.level", s.opts.LogLevel}, extra...)
	args = append(args, s.opts.ExporterArgs...)
	s.procs = append(s.procs, harness.StartProcess(t, harness.Build(t, "flagger-exporter"), args...))
	s.waitHTTP(t, "flagger-exporter", s.ExporterURL+"/-/ready")
}

// startAdapter runs flagger-event-adapter at addr with
// deploy/adapter/config.yml, its target's URL pointed at the Events sink,
// and (HA) a cluster section listing every replica; the stack's only
// changes to the shipped file.
func (s *Stack) startAdapter(t testing.TB, addr string, peers []string) *Adapter {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "deploy", "adapter", "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const target = "url: http://flagger-event-consumer:8080/events"
	if strings.Count(string(raw), target) != 1 {
		t.Fatalf("stack: deploy/adapter/config.yml no longer has %q once; update startAdapter", target)
	}
	cfg := strings.Replace(string(raw), target, "url: "+s.Events.URL, 1)
	url := "http://" + addr
	args := []string{"--web.listen-address=" + addr, "--log.level=" + s.opts.LogLevel}
	if len(peers) > 0 {
		cfg += "\ncluster:\n  peers: [" + strings.Join(peers, ", ") + "]\n"
		args = append(args, "--cluster.self-url="+url)
	}
	file := filepath.Join(s.dir, fmt.Sprintf("flagger-event-adapter-%d.yml", len(s.Adapters)))
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Adapter{URL: url, bin: harness.Build(t, "flagger-event-adapter"), args: append(args, "--config.file="+file)}
	s.runAdapter(t, a)
	s.Adapters = append(s.Adapters, a)
	return a
}
