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
	"time"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/events"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
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
	// Shard is the part of the canaries this exporter exports (--shard,
	// --total-shards); Pod, when set, a StatefulSet pod name whose ordinal
	// is the shard (--pod).
	Shard         kube.Shard
	Pod           string
	TelemetryPath string
	// MetricAllowlist and MetricDenylist pick the canary families written
	// (kube-state-metrics' flags; see exposition.Select).
	MetricAllowlist, MetricDenylist []string
	// MeshProvider is the -mesh-provider Flagger runs with: the provider of
	// every Canary without spec.provider. Empty means Flagger's default,
	// istio.
	MeshProvider string
	// Events configures the Events watch and the relay of per-step events.
	Events EventsConfig
	Web    *web.FlagConfig
	Logger log.Logger
}

// EventsConfig is the --events.* flags.
type EventsConfig struct {
	// Watch the Canaries' Kubernetes Events: the latest-step metric, and the
	// relay when AlertmanagerURLs are set.
	Watch bool
	// AlertmanagerURLs receive each new per-step event as an alert.
	AlertmanagerURLs []string
	// HTTPConfigFile: TLS, basic auth or a bearer token for them, in
	// Prometheus' HTTP client format; secrets are read from files it names.
	HTTPConfigFile string
	// AlertLifetime: how long a step alert fires; the replay window after a
	// restart.
	AlertLifetime time.Duration
	// AlertSeverity: the step alerts' severity label.
	AlertSeverity string
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
	families, err := exposition.Select(c.MetricAllowlist, c.MetricDenylist)
	if err != nil {
		return err
	}
	if c.Shard, err = shard(c.Shard, c.Pod); err != nil {
		return err
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
	level.Info(c.Logger).Log("msg", "starting "+Name, "version", version.Info(), "kubernetes", restConfig.Host, "credentials", source, "mesh_provider", c.MeshProvider, "shard", c.Shard.Index, "total_shards", max(c.Shard.Total, 1))

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
	registerShard(reg, c.Shard)

	relay, forwarder, err := newRelay(c, client, st, reg)
	if err != nil {
		return err
	}
	watcher, err := kube.New(kube.Config{
		Client: client, Namespaces: c.Namespaces, LabelSelector: c.LabelSelector, Shard: c.Shard,
		Sink: st, Logger: c.Logger, Registerer: reg,
		Decode: canary.Options{MeshProvider: c.MeshProvider},
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle(c.TelemetryPath, scrape.New(st, families, reg, reg, c.Logger))
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
	if forwarder != nil {
		go forwarder.Run(ctx)
	}
	if relay != nil {
		go func() {
			// After the canaries: the relay only relays exported canaries.
			if cache.WaitForCacheSync(ctx.Done(), func() bool { return watcher.Synced() == nil }) {
				relay.Run(ctx)
			}
		}()
	}
	return server.Run(ctx, opts, handler)
}

// newRelay sets up the Events watch and, with Alertmanager URLs, the
// forwarder; both nil with --no-events.watch.
func newRelay(c Config, client dynamic.Interface, st *store.Store, reg prometheus.Registerer) (*events.Relay, *events.Forwarder, error) {
	e := c.Events
	if !e.Watch {
		if len(e.AlertmanagerURLs) > 0 {
			return nil, nil, fmt.Errorf("--events.alertmanager-url needs the Events watch; drop --no-events.watch")
		}
		return nil, nil, nil
	}
	var forwarder *events.Forwarder
	var sender events.Sender
	if len(e.AlertmanagerURLs) > 0 {
		httpClient := http.DefaultClient
		if e.HTTPConfigFile != "" {
			cfg, _, err := promconfig.LoadHTTPConfigFile(e.HTTPConfigFile)
			if err != nil {
				return nil, nil, fmt.Errorf("--events.alertmanager-http-config %s: %w", e.HTTPConfigFile, err)
			}
			if httpClient, err = promconfig.NewClientFromConfig(*cfg, Name); err != nil {
				return nil, nil, fmt.Errorf("--events.alertmanager-http-config %s: %w", e.HTTPConfigFile, err)
			}
		}
		var err error
		forwarder, err = events.NewForwarder(events.ForwarderConfig{
			URLs: e.AlertmanagerURLs, Client: httpClient, UserAgent: Name + "/" + version.Version,
			Logger: c.Logger, Registerer: reg,
		})
		if err != nil {
			return nil, nil, err
		}
		sender = forwarder
	}
	if e.AlertLifetime <= 0 {
		e.AlertLifetime = DefaultAlertLifetime
	}
	relay, err := events.New(events.Config{
		Client: client, Namespaces: c.Namespaces, Shard: c.Shard, Canaries: st, Sender: sender,
		Lifetime: e.AlertLifetime, Severity: e.AlertSeverity, Logger: c.Logger, Registerer: reg,
	})
	return relay, forwarder, err
}

// DefaultAlertLifetime is --events.alert-lifetime's default: long enough for
// Alertmanager's group_wait and the adapter's retries, short enough that
// Alertmanager holds few step alerts.
const DefaultAlertLifetime = 10 * time.Minute

// DefaultAlertSeverity is --events.alert-severity's default.
const DefaultAlertSeverity = events.DefaultSeverity

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
