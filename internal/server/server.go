// Package server runs the HTTP listener both binaries share: exporter-toolkit's
// web config (TLS, basic auth), the landing page, /-/healthy and /-/ready, and
// a graceful shutdown that lets in-flight requests finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/flagger-monitoring/flagger-monitoring/internal/logging"
)

// Options describe one binary's listener.
type Options struct {
	Name        string // e.g. flagger-exporter
	Description string
	Links       []web.LandingLinks
	Web         *web.FlagConfig
	Logger      log.Logger
	// Ready reports why the process cannot serve yet; nil means ready.
	Ready func() error
	// ShutdownTimeout bounds how long in-flight requests may take to drain.
	ShutdownTimeout time.Duration
	// MaxConnections bounds the connections each listen address serves at
	// once (0: unlimited); see limitedListeners.
	MaxConnections int
}

// Handler adds the landing page and the health endpoints to mux.
func Handler(o Options, mux *http.ServeMux) (http.Handler, error) {
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        o.Name,
		Description: o.Description,
		Version:     version.Info(),
		Links:       o.Links,
	})
	if err != nil {
		return nil, fmt.Errorf("landing page: %w", err)
	}
	mux.Handle("/", landing)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if o.Ready != nil {
			if err := o.Ready(); err != nil {
				http.Error(w, "Not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "Ready")
	})
	return mux, nil
}

// Run serves h on the configured addresses until ctx is cancelled, then shuts
// down gracefully. It returns nil after a clean shutdown.
func Run(ctx context.Context, o Options, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Idle keep-alive connections would otherwise hold a MaxConnections
		// slot for as long as the client keeps them (Alertmanager: 5 min).
		IdleTimeout: time.Minute,
	}
	listeners, err := limitedListeners(o.Web, o.MaxConnections)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		if listeners != nil {
			errc <- web.ServeMultiple(listeners, srv, o.Web, logging.Slog(o.Logger))
			return
		}
		errc <- web.ListenAndServe(srv, o.Web, logging.Slog(o.Logger))
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := o.ShutdownTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	level.Info(o.Logger).Log("msg", "shutting down, draining in-flight requests", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
