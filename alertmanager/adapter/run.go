package adapter

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/internal/server"
)

// Name is the binary's name: the User-Agent sent to targets and the metric
// namespace of its build info.
const Name = "flagger-event-adapter"

// Config is what the command line sets.
type Config struct {
	ConfigFile  string
	WebhookPath string   // where Alertmanager's webhook_configs url points
	SelfURL     string   // this replica in cluster.peers (see Options)
	Peers       []string // replaces the config's cluster.peers (see Options)
	// ShutdownTimeout bounds how long in-flight notifications may finish.
	ShutdownTimeout time.Duration
	// MaxConnections bounds the connections served at once per listen
	// address (--web.max-connections; 0: unlimited).
	MaxConnections int
	Web            *web.FlagConfig
	Logger         log.Logger
}

// Run serves until ctx is cancelled, reloading the config file on SIGHUP
// and on POST /-/reload. An invalid config file or webhook path is an error
// at start, so a misconfigured adapter fails instead of answering 503.
func Run(ctx context.Context, c Config) error {
	if c.Logger == nil {
		c.Logger = log.NewNopLogger()
	}
	level.Info(c.Logger).Log("msg", "starting "+Name, "version", version.Info(), "build_context", version.BuildContext())
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("flagger_event_adapter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	a, err := New(Options{
		ConfigFile: c.ConfigFile,
		UserAgent:  Name + "/" + version.Version,
		SelfURL:    c.SelfURL,
		Peers:      c.Peers,
		Logger:     c.Logger,
		Registerer: reg,
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if err := a.Register(mux, c.WebhookPath); err != nil {
		return err
	}
	opts := server.Options{
		Name:        Name,
		Description: "Alertmanager webhook to Flagger event webhook",
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
		Web:             c.Web,
		Logger:          c.Logger,
		Ready:           a.Ready,
		ShutdownTimeout: c.ShutdownTimeout,
		MaxConnections:  c.MaxConnections,
	}
	h, err := server.Handler(opts, mux)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go config.ReloadOnSignal(ctx, hup, a.Reload)
	return server.Run(ctx, opts, h)
}
