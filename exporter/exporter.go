// Package exporter wires the flagger-exporter together: Kubernetes client,
// canary informers, the store, the /metrics handler and the web server.
//
// Data flows one way: Canary objects → kube (informer, decode) → store →
// scrape (exposition) → Prometheus.
package exporter

import (
	"context"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/scrape"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/store"
	"github.com/flagger-monitoring/flagger-monitoring/internal/server"
)

// Name is the binary's name: its User-Agent and the metric namespace of its
// build info.
const Name = "flagger-exporter"

// Config is what the command line sets.
type Config struct {
	Kubeconfig    string
	Namespaces    []string
	LabelSelector string
	TelemetryPath string
	// MeshProvider is the -mesh-provider Flagger runs with: the provider of
	// every Canary without spec.provider. Empty means Flagger's default,
	// istio.
	MeshProvider string
	Web          *web.FlagConfig
	Logger       log.Logger
}

// Run serves until ctx is cancelled.
func Run(ctx context.Context, c Config) error {
	if c.Logger == nil {
		c.Logger = log.NewNopLogger()
	}
	if c.MeshProvider == "" {
		c.MeshProvider = canary.DefaultMeshProvider
	}
	if !utf8.ValidString(c.MeshProvider) || len(c.MeshProvider) > canary.MaxLabelBytes {
		return fmt.Errorf("--flagger.mesh-provider must be valid UTF-8 of at most %d bytes", canary.MaxLabelBytes)
	}
	restConfig, source, err := restConfig(c.Kubeconfig)
	if err != nil {
		return err
	}
	restConfig.UserAgent = Name + "/" + version.Version
	client, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	level.Info(c.Logger).Log("msg", "starting "+Name, "version", version.Info(), "kubernetes", restConfig.Host, "credentials", source, "mesh_provider", c.MeshProvider)

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("flagger_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	st := store.New()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "flagger_exporter_canaries",
		Help: "Canaries currently exported.",
	}, func() float64 { return float64(st.Len()) }))

	watcher, err := kube.New(kube.Config{
		Client: client, Namespaces: c.Namespaces, LabelSelector: c.LabelSelector,
		Sink: st, Logger: c.Logger, Registerer: reg,
		Decode: canary.Options{MeshProvider: c.MeshProvider},
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle(c.TelemetryPath, scrape.New(st, reg, reg, c.Logger))
	opts := server.Options{
		Name:        "Flagger Exporter",
		Description: "Prometheus metrics for Flagger canaries",
		Links:       []web.LandingLinks{{Address: c.TelemetryPath, Text: "Metrics"}, {Address: "/-/ready", Text: "Readiness"}},
		Web:         c.Web,
		Logger:      c.Logger,
		Ready:       watcher.Synced,
	}
	handler, err := server.Handler(opts, mux)
	if err != nil {
		return err
	}
	go watcher.Run(ctx)
	return server.Run(ctx, opts, handler)
}

// restConfig finds credentials the way a user expects: an explicit
// --kubeconfig first, then the pod's ServiceAccount, then $KUBECONFIG or
// ~/.kube/config.
func restConfig(kubeconfig string) (*rest.Config, string, error) {
	if kubeconfig != "" {
		c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, "", fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
		}
		return c, "kubeconfig flag", nil
	}
	if c, err := rest.InClusterConfig(); err == nil {
		return c, "in-cluster", nil
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{})
	c, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("no Kubernetes credentials: not in a cluster, and $KUBECONFIG / ~/.kube/config: %w", err)
	}
	return c, "KUBECONFIG", nil
}
