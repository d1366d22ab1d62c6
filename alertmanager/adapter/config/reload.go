package config

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Reloader owns the current Runtime. A reload that fails in any way keeps the
// old one running: a typo in a Secret must not stop event delivery.
type Reloader struct {
	path   string
	id     Identity
	logger log.Logger
	onSwap func(*Runtime)

	mu          sync.Mutex // one reload at a time
	cur         atomic.Pointer[Runtime]
	lastOK      prometheus.Gauge
	lastSuccess prometheus.Gauge
}

// NewReloader does not load anything yet; call Reload. onSwap, if not nil,
// runs after each successful swap with the new runtime.
func NewReloader(path string, id Identity, logger log.Logger, reg prometheus.Registerer, onSwap func(*Runtime)) *Reloader {
	f := promauto.With(reg)
	return &Reloader{
		path: path, id: id, logger: logger, onSwap: onSwap,
		lastOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagger_event_adapter_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		lastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "flagger_event_adapter_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
}

// Current is the runtime requests should use; nil before the first load.
func (r *Reloader) Current() *Runtime { return r.cur.Load() }

// Ready reports whether a config is loaded.
func (r *Reloader) Ready() error {
	if r.Current() == nil {
		return errors.New("no valid configuration loaded")
	}
	return nil
}

// Reload reads the file again and swaps it in if valid.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt, err := r.load()
	if err != nil {
		r.lastOK.Set(0)
		// The error names fields and files, never URLs or passwords.
		level.Error(r.logger).Log("msg", "loading configuration failed; keeping the previous one", "file", r.path, "err", err)
		return err
	}
	old := r.cur.Swap(rt)
	if old != nil {
		old.close()
	}
	if r.onSwap != nil {
		r.onSwap(rt)
	}
	r.lastOK.Set(1)
	r.lastSuccess.SetToCurrentTime()
	level.Info(r.logger).Log("msg", "configuration loaded", "file", r.path, "targets", len(rt.Targets))
	return nil
}

func (r *Reloader) load() (*Runtime, error) {
	c, err := Load(r.path)
	if err != nil {
		return nil, err
	}
	return Compile(c, r.id)
}

// ReloadOnSignal calls reload for every value on sigs until ctx ends. The
// main feeds it SIGHUP; tests feed it a channel.
func ReloadOnSignal(ctx context.Context, sigs <-chan os.Signal, reload func() error) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
			_ = reload() // Reload logs and counts its own failure.
		}
	}
}
