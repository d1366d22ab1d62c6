// Package scrape serves /metrics: the exporter's own metrics through
// client_golang, then the canary families written straight from the store.
package scrape

import (
	"bytes"
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
	// Versioned returns the canaries in exposition order and a generation
	// that changes whenever they do.
	Versioned() ([]*exposition.Canary, uint64)
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

	// The compressed canary families of generation gen, kept between
	// changes: Prometheus asks for gzip, and most scrapes of a fleet that
	// is not rolling out find nothing changed. Only the compressed form is
	// kept (1.7 MB at 10k canaries, against 40 MB of text).
	mu     sync.Mutex
	gen    uint64
	gzBody []byte
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
	write := h.write
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		rw.Header().Set("Content-Encoding", "gzip")
		rw.Header().Add("Vary", "Accept-Encoding")
		write = h.writeGzip
	}
	if err := write(rw); err != nil {
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
	if err := h.writeSelf(w); err != nil {
		return err
	}
	canaries, _ := h.source.Versioned()
	return h.writeFamilies(w, canaries)
}

// writeFamilies renders the canary families into w through a pipe, so
// rendering overlaps with whatever w does with the bytes: send them, or
// compress them.
func (h *Handler) writeFamilies(w io.Writer, canaries []*exposition.Canary) (err error) {
	p := newPipe(w)
	// Deferred, so that a panic in the renderer (net/http recovers it) still
	// waits for the sender: it must not write to w, or to a pooled gzip
	// writer, once this scrape has returned.
	defer func() {
		if cerr := p.Close(); err == nil {
			err = cerr
		}
	}()
	return h.families.Write(p, canaries)
}

// writeGzip writes two gzip members, which a gzip reader (Prometheus',
// Go's, zlib's) reads as one stream (RFC 1952, 2.2): the self metrics,
// compressed afresh, then the canary families, compressed once per change
// of the store. The scrape that finds them changed compresses them as it
// sends them, as an uncached scrape would, and keeps the result; scrapes
// meanwhile do the same rather than wait for a slow scraper's connection.
func (h *Handler) writeGzip(w io.Writer) error {
	if err := h.compress(w, h.writeSelf); err != nil {
		return err
	}
	canaries, gen := h.source.Versioned()
	h.mu.Lock()
	body, fresh := h.gzBody, h.gzBody != nil && h.gen == gen
	h.mu.Unlock()
	if fresh {
		_, err := w.Write(body)
		return err
	}
	t := &tee{out: w, kept: bytes.NewBuffer(make([]byte, 0, len(body)+len(body)/8))}
	if err := h.compress(t, func(w io.Writer) error { return h.writeFamilies(w, canaries) }); err != nil {
		return err
	}
	h.mu.Lock()
	if h.gzBody == nil || gen > h.gen {
		h.gen, h.gzBody = gen, t.kept.Bytes()
	}
	h.mu.Unlock()
	return t.err
}

// tee sends what is written to out and keeps a copy. A failed send (the
// scraper hung up) is remembered, not returned, so the copy is still whole
// for the next scrape.
type tee struct {
	out  io.Writer
	kept *bytes.Buffer
	err  error
}

func (t *tee) Write(b []byte) (int, error) {
	t.kept.Write(b)
	if t.err == nil {
		_, t.err = t.out.Write(b)
	}
	return len(b), nil
}

// compress writes what write writes to w as one gzip member.
func (h *Handler) compress(w io.Writer, write func(io.Writer) error) error {
	gz := h.gzips.Get().(*gzip.Writer)
	defer h.gzips.Put(gz)
	gz.Reset(w)
	err := write(gz)
	if cerr := gz.Close(); err == nil {
		err = cerr
	}
	gz.Reset(nil)
	return err
}

// writeSelf writes the exporter's own metrics, gathered now.
func (h *Handler) writeSelf(w io.Writer) error {
	mfs, err := h.gatherer.Gather()
	if err != nil {
		level.Warn(h.logger).Log("msg", "gathering self metrics", "err", err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
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
