// Command flagger-event-adapter receives Alertmanager webhook notifications
// and forwards each alert as a Flagger event-webhook call. This file only
// parses flags and wires packages; the behaviour lives in
// alertmanager/adapter.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/internal/logging"
	"github.com/flagger-monitoring/flagger-monitoring/internal/server"
)

const name = "flagger-event-adapter"

func main() { os.Exit(run()) }

func run() int {
	app := kingpin.New(name, "Forwards Alertmanager webhook notifications to Flagger event-webhook consumers.")
	configFile := app.Flag("config.file", "Adapter configuration file (targets, mapping, delivery).").
		Default("flagger-event-adapter.yml").String()
	path := app.Flag("webhook.path", "Path Alertmanager's webhook_configs url points at.").
		Default(adapter.DefaultPath).String()
	shutdown := app.Flag("web.shutdown-timeout", "How long in-flight notifications may take to finish on shutdown; keep it above global.request_timeout.").
		Default("30s").Duration()
	webFlags := kingpinflag.AddFlags(app, ":9099")
	logCfg := logging.AddFlags(app)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	logger, err := logging.New(os.Stderr, *logCfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	level.Info(logger).Log("msg", "starting "+name, "version", version.Info(), "build_context", version.BuildContext())

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("flagger_event_adapter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	a, err := adapter.New(adapter.Options{
		ConfigFile: *configFile,
		UserAgent:  name + "/" + version.Version,
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "err", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if err := a.Register(mux, *path); err != nil {
		level.Error(logger).Log("msg", "invalid flag", "err", err)
		return 2
	}
	opts := server.Options{
		Name:        name,
		Description: "Alertmanager webhook to Flagger event webhook",
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
		Web:             webFlags,
		Logger:          logger,
		Ready:           a.Ready,
		ShutdownTimeout: *shutdown,
	}
	h, err := server.Handler(opts, mux)
	if err != nil {
		level.Error(logger).Log("msg", "building handler", "err", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go config.ReloadOnSignal(ctx, hup, a.Reload)

	if err := server.Run(ctx, opts, h); err != nil {
		level.Error(logger).Log("msg", "server stopped", "err", err)
		return 1
	}
	return 0
}
