// Command flagger-exporter serves Prometheus metrics for Flagger canaries.
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

	"github.com/flagger-monitoring/flagger-monitoring/exporter"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/logging"
	"github.com/flagger-monitoring/flagger-monitoring/internal/logging/klogbridge"
)

func main() {
	app := kingpin.New("flagger-exporter", "Prometheus exporter for Flagger canaries.")
	var c exporter.Config
	app.Flag("kubeconfig", "Path to a kubeconfig. Default: in-cluster config, else $KUBECONFIG or ~/.kube/config.").StringVar(&c.Kubeconfig)
	app.Flag("namespace", "Namespace to watch; repeat for several. Default: all namespaces.").StringsVar(&c.Namespaces)
	app.Flag("label-selector", "Only export canaries matching this label selector.").StringVar(&c.LabelSelector)
	app.Flag("flagger.mesh-provider", "The -mesh-provider Flagger runs with (its default is istio): the provider of every canary without spec.provider.").Default(canary.DefaultMeshProvider).StringVar(&c.MeshProvider)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&c.TelemetryPath)
	c.Web = kingpinflag.AddFlags(app, ":9797")
	logConfig := logging.AddFlags(app)
	app.Version(version.Print("flagger-exporter"))
	app.HelpFlag.Short('h')
	kingpin.MustParse(app.Parse(os.Args[1:]))

	logger, err := logging.New(os.Stderr, *logConfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	klogbridge.Install(logger)
	c.Logger = logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := exporter.Run(ctx, c); err != nil {
		level.Error(logger).Log("msg", "flagger-exporter failed", "err", err)
		os.Exit(1)
	}
}
