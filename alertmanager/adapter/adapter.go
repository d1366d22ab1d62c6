// Package adapter wires the flagger-event-adapter together: config and
// reload, the webhook handler, delivery. The binary's main and the
// end-to-end tests build it the same way.
package adapter

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/handler"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
)

// DefaultPath is where Alertmanager's webhook_configs url should point.
const DefaultPath = "/webhook"

// Options configure an Adapter.
type Options struct {
	ConfigFile string
	UserAgent  string // sent to targets
	// SelfURL is this replica's entry among the peers (see package peer);
	// empty: the entry whose host's first DNS label is the hostname.
	SelfURL string
	// Peers, when set, replace the config's cluster.peers (the
	// --cluster.peer flags).
	Peers      []string
	Logger     log.Logger
	Registerer prometheus.Registerer
}

// Adapter is a running adapter minus its listener.
type Adapter struct {
	*config.Reloader
	webhook *handler.Webhook
}

// New loads the config file; an invalid one is an error, so a misconfigured
// adapter fails at start instead of answering 503 forever.
func New(o Options) (*Adapter, error) {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	d := deliver.New(o.Logger, o.Registerer)
	id := config.Identity{UserAgent: o.UserAgent, SelfURL: o.SelfURL, Peers: o.Peers, Hostname: peer.Hostname()}
	r := config.NewReloader(o.ConfigFile, id, o.Logger, o.Registerer,
		func(rt *config.Runtime) { d.Forget(rt.TargetNames()) })
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return &Adapter{Reloader: r, webhook: handler.NewWebhook(r.Current, d, o.Logger, o.Registerer)}, nil
}

// Register adds the webhook at path, POST /-/reload and the endpoint other
// replicas forward to (peer.Path) to mux. The path may
// not shadow the landing page, /metrics or the /-/ endpoints.
func (a *Adapter) Register(mux *http.ServeMux, path string) error {
	if !strings.HasPrefix(path, "/") || path == "/" || path == "/metrics" || strings.HasPrefix(path, "/-/") || strings.ContainsAny(path, " {}") {
		return fmt.Errorf("webhook path %q: want an absolute path other than /, /metrics and those under /-/", path)
	}
	mux.Handle(path, a.webhook)
	mux.Handle("/-/reload", handler.Reload(a.Reload))
	mux.Handle(peer.Path, handler.PeerDeliver{Webhook: a.webhook})
	return nil
}
