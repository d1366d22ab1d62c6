package config

import (
	"fmt"
	"net/http"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
)

// Runtime is a config compiled for use: immutable, shared by all requests
// until a reload replaces it.
type Runtime struct {
	Mapper         *event.Mapper
	Targets        []*deliver.Target
	Window         deliver.Window
	RequestTimeout time.Duration
	MaxBodyBytes   int64
	MaxInFlight    int64
	// Ring and PeerClient are set when cluster.peers lists replicas.
	Ring       *peer.Ring
	PeerClient *http.Client
}

// Compile builds the runtime objects; any error leaves nothing half-built.
func Compile(c *Config, id Identity) (*Runtime, error) {
	m, err := c.Mapping.Compile()
	if err != nil {
		return nil, err
	}
	rt := &Runtime{
		Mapper:         m,
		Window:         deliver.Window{Duration: time.Duration(c.Global.IdempotencyWindow), MaxEntries: c.Global.IdempotencyMaxEntries},
		RequestTimeout: time.Duration(c.Global.RequestTimeout),
		MaxBodyBytes:   c.Global.MaxBodyBytes,
		MaxInFlight:    int64(c.Global.MaxInFlight),
	}
	if rt.Ring, rt.PeerClient, err = c.Cluster.build(id); err != nil {
		return nil, err
	}
	for i := range c.Targets {
		t, err := c.Targets[i].build(id.UserAgent)
		if err != nil {
			rt.close()
			return nil, fmt.Errorf("targets[%d] (%q): %w", i, c.Targets[i].Name, err)
		}
		rt.Targets = append(rt.Targets, t)
	}
	return rt, nil
}

// TargetNames are the configured target names, for dropping state of targets
// a reload removed.
func (rt *Runtime) TargetNames() map[string]bool {
	n := make(map[string]bool, len(rt.Targets))
	for _, t := range rt.Targets {
		n[t.Name] = true
	}
	return n
}

// close releases idle connections of a replaced runtime; requests still
// using it finish on their open connections.
func (rt *Runtime) close() {
	for _, t := range rt.Targets {
		t.Client.CloseIdleConnections()
	}
	if rt.PeerClient != nil {
		rt.PeerClient.CloseIdleConnections()
	}
}
