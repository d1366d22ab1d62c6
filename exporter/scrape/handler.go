// Package scrape serves /metrics: the exporter's own metrics through
// client_golang, then the canary families written straight from the store.
package scrape

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
)

// Source is where the canaries come from.
type Source interface {
	Snapshot() []*exposition.Canary
}

// contentType is the classic text format: every Prometheus version and every
// other scraper understands it, whatever they ask for in Accept.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler writes one scrape.
type Handler struct {
	source   Source
	families exposition.Selection
	gatherer prometheus.Gatherer
	logger   log.Logger
	duration prometheus.Histogram
	gzips    sync.Pool
}

// New registers the scrape duration histogram with reg and returns the
// handler, writing the families selected (exposition.All: every one).
// gatherer supplies the self metrics written before the canaries.
func New(source Source, families exposition.Selection, gatherer prometheus.Gatherer, reg prometheus.Registerer, logger log.Logger) *Handler {
	h := &Handler{
		source:   source,
		families: families,
		gatherer: gatherer,
		logger:   logger,
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "flagger_exporter_scrape_duration_seconds",
			Help:    "Time to write a /metrics response, canary families included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	h.gzips.New = func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }
	reg.MustRegister(h.duration)
	return h
}

func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.duration.Observe(time.Since(start).Seconds()) }()

	rw.Header().Set("Content-Type", contentType)
	var out io.Writer = rw
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		rw.Header().Set("Content-Encoding", "gzip")
		rw.Header().Add("Vary", "Accept-Encoding")
		gz := h.gzips.Get().(*gzip.Writer)
		gz.Reset(rw)
		defer func() {
			gz.Close()
			gz.Reset(nil)
			h.gzips.Put(gz)
		}()
		out = gz
	}
	if err := h.write(out); err != nil {
		// Headers are gone; all that is left is to log. A scraper that hung
		// up (its scrape timeout) is routine; anything else is an error.
		logAt := level.Error
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || r.Context().Err() != nil {
			logAt = level.Debug
		}
		logAt(h.logger).Log("msg", "writing /metrics failed", "err", err)
	}
}

func (h *Handler) write(w io.Writer) error {
	mfs, err := h.gatherer.Gather()
	if err != nil {
		level.Warn(h.logger).Log("msg", "gathering self metrics", "err", err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return h.families.Write(w, h.source.Snapshot())
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and does
// not forbid it with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(coding) != "gzip" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
