// Command flagger-exporter serves Prometheus metrics for Flagger canaries.
// This file only parses flags; the behaviour lives in exporter.
//
// Exit codes, as flagger-event-adapter's: 2 when the command line cannot be
// parsed, 1 when the exporter cannot start (invalid flag value, no
// Kubernetes credentials) or stops with an error.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/flagger-monitoring/flagger-monitoring/exporter"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/logging"
	"github.com/flagger-monitoring/flagger-monitoring/internal/logging/klogbridge"
)

func main() {
	// Almost all of the exporter's heap lives long (the informer cache and
	// the store); a scrape allocates little. Go's default GOGC=100 lets the
	// heap grow to twice that before collecting, which at 10k canaries is
	// most of the RSS. Unless GOGC says otherwise, collect at 50% growth
	// (Prometheus defaults to 75 for the same reason); measured in
	// BENCHMARKS.md.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(run())
}

// commaList splits a comma-separated flag value, dropping empty entries.
func commaList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run() int {
	app := kingpin.New(exporter.Name, "Prometheus exporter for Flagger canaries.")
	var c exporter.Config
	var allow, deny string
	app.Flag("kubeconfig", "Path to a kubeconfig. Default: in-cluster config, else $KUBECONFIG or ~/.kube/config.").StringVar(&c.Kubeconfig)
	app.Flag("namespace", "Namespace to watch; repeat for several. Default: all namespaces.").StringsVar(&c.Namespaces)
	app.Flag("label-selector", "Only export canaries matching this label selector.").StringVar(&c.LabelSelector)
	app.Flag("shard", "This exporter's shard, from 0 (kube-state-metrics' flag): it exports the canaries whose UID hashes to it. Needs --total-shards.").Default("0").IntVar(&c.Shard.Index)
	app.Flag("total-shards", "The number of shards the canaries are split into, one exporter each. Default 1: unsharded.").Default("1").IntVar(&c.Shard.Total)
	app.Flag("pod", "A StatefulSet pod name (from the Downward API, e.g. $(POD_NAME)): the shard is its trailing ordinal, instead of --shard.").StringVar(&c.Pod)
	app.Flag("metric-allowlist", "Comma-separated regular expressions: write only the canary families whose whole name matches one (kube-state-metrics' flag). Mutually exclusive with --metric-denylist.").StringVar(&allow)
	app.Flag("metric-denylist", "Comma-separated regular expressions: write every canary family except those whose whole name matches one.").StringVar(&deny)
	app.Flag("flagger.mesh-provider", "The -mesh-provider Flagger runs with (its default is istio): the provider of every canary without spec.provider.").Default(canary.DefaultMeshProvider).StringVar(&c.MeshProvider)
	app.Flag("events.watch", "Watch the Canaries' Kubernetes Events (Flagger records every message it posts as one): exports flagger_canary_last_step_timestamp_seconds, and relays per-step events with --events.alertmanager-url. Needs get, list and watch on events.").Default("true").BoolVar(&c.Events.Watch)
	app.Flag("events.alertmanager-url", "Alertmanager base URL to send each new per-step event of Flagger to, as a FlaggerCanaryStep alert; repeat for every peer of an HA cluster. Default: none, nothing is sent.").StringsVar(&c.Events.AlertmanagerURLs)
	app.Flag("events.alertmanager-http-config", "File with TLS, basic auth or bearer token settings for the Alertmanagers, in Prometheus' http_config format (secrets by file).").StringVar(&c.Events.HTTPConfigFile)
	app.Flag("events.alert-lifetime", "How long a step alert fires in Alertmanager; also how old an Event found at start-up may be and still be sent (Alertmanager merges re-sent ones).").Default(exporter.DefaultAlertLifetime.String()).DurationVar(&c.Events.AlertLifetime)
	app.Flag("events.alert-severity", "The step alerts' severity label: the mixin's noticeSeverity (not info, which kube-prometheus-stack's InfoInhibitor mutes).").Default(exporter.DefaultAlertSeverity).StringVar(&c.Events.AlertSeverity)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&c.TelemetryPath)
	c.Web = kingpinflag.AddFlags(app, ":9797")
	logConfig := logging.AddFlags(app)
	app.Version(version.Print(exporter.Name))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporter.Name, err)
		return 2
	}
	logger, err := logging.New(os.Stderr, *logConfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporter.Name, err)
		return 2
	}
	klogbridge.Install(logger)
	c.Logger = logger
	c.MetricAllowlist, c.MetricDenylist = commaList(allow), commaList(deny)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := exporter.Run(ctx, c); err != nil {
		level.Error(logger).Log("msg", exporter.Name+" failed", "err", err)
		return 1
	}
	return 0
}
