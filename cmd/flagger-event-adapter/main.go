// Command flagger-event-adapter receives Alertmanager webhook notifications
// and forwards each alert as a Flagger event-webhook call. This file only
// parses flags; the behaviour lives in alertmanager/adapter.
//
// Exit codes, as flagger-exporter's: 2 when the command line cannot be
// parsed, 1 when the adapter cannot start (invalid config file or flag
// value) or stops with an error.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter"
	"github.com/flagger-monitoring/flagger-monitoring/internal/logging"
)

func main() { os.Exit(run()) }

func run() int {
	app := kingpin.New(adapter.Name, "Forwards Alertmanager webhook notifications to Flagger event-webhook consumers.")
	var c adapter.Config
	app.Flag("config.file", "Adapter configuration file (targets, mapping, delivery).").
		Default("flagger-event-adapter.yml").StringVar(&c.ConfigFile)
	app.Flag("webhook.path", "Path Alertmanager's webhook_configs url points at.").
		Default(adapter.DefaultPath).StringVar(&c.WebhookPath)
	app.Flag("web.shutdown-timeout", "How long in-flight notifications may take to finish on shutdown; keep it above global.request_timeout.").
		Default("30s").DurationVar(&c.ShutdownTimeout)
	app.Flag("web.max-connections", "Connections served at once per listen address; more wait in the kernel's accept queue. Bounds memory when every Alertmanager alert group retries at once (0: unlimited). Keep it above global.max_in_flight times the Alertmanager replicas.").
		Default("512").IntVar(&c.MaxConnections)
	app.Flag("cluster.peer", "A replica's base URL, this one's included (repeat for each). Replaces the config file's cluster.peers, so a chart can list a StatefulSet's pods whatever the file says.").
		StringsVar(&c.Peers)
	app.Flag("cluster.self-url", "This replica's entry in cluster.peers. Default: the entry whose host's first DNS label is the hostname (a StatefulSet pod's name).").
		StringVar(&c.SelfURL)
	c.Web = kingpinflag.AddFlags(app, ":9099")
	logConfig := logging.AddFlags(app)
	app.Version(version.Print(adapter.Name))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", adapter.Name, err)
		return 2
	}
	logger, err := logging.New(os.Stderr, *logConfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", adapter.Name, err)
		return 2
	}
	c.Logger = logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := adapter.Run(ctx, c); err != nil {
		level.Error(logger).Log("msg", adapter.Name+" failed", "err", err)
		return 1
	}
	return 0
}
