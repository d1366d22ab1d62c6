// Package handler is the adapter's HTTP surface: the webhook Alertmanager
// posts to, and the reload endpoint.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/payload"
)

// Webhook receives Alertmanager notifications and answers only when every
// event reached every target that selects it (2xx), or when some did not and
// Alertmanager should try again (503).
type Webhook struct {
	current   func() *config.Runtime
	deliverer *deliver.Deliverer
	logger    log.Logger
	m         *metrics
	now       func() time.Time
	inFlight  atomic.Int64
}

// NewWebhook serves with the runtime current returns at each request, so a
// reload applies to the next notification.
func NewWebhook(current func() *config.Runtime, d *deliver.Deliverer, logger log.Logger, reg prometheus.Registerer) *Webhook {
	return &Webhook{current: current, deliverer: d, logger: logger, m: newMetrics(reg), now: time.Now}
}

// Response is the JSON body of a 200 or 503, for whoever reads
// Alertmanager's debug log.
type Response struct {
	Status   string `json:"status"` // "success" or "retry"
	Rejected int    `json:"rejected"`
	*deliver.Report
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := h.serve(w, r)
	h.m.request(code).Inc()
	h.m.duration.Observe(time.Since(start).Seconds())
}

func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return plain(w, http.StatusMethodNotAllowed, "method %s not allowed: POST an Alertmanager webhook notification", r.Method)
	}
	rt := h.current()
	if rt == nil {
		return plain(w, http.StatusServiceUnavailable, "no configuration loaded yet")
	}
	if n := h.inFlight.Add(1); n > rt.MaxInFlight {
		h.inFlight.Add(-1)
		h.m.shed.Inc()
		w.Header().Set("Retry-After", "1")
		// Alertmanager keeps up to 1000 idle connections per host; under
		// an outage every alert group retrying holds one here (two 4 KiB
		// buffers and a goroutine each). Closing the shed ones keeps the
		// open connections near max_in_flight.
		w.Header().Set("Connection", "close")
		return plain(w, http.StatusServiceUnavailable, "%d notifications in flight (global.max_in_flight): try again", n-1)
	}
	defer h.inFlight.Add(-1)
	msg, err := h.decode(r, rt)
	if err != nil {
		var pe *payload.Error
		if errors.As(err, &pe) {
			level.Debug(h.logger).Log("msg", "refused webhook request", "code", pe.Code, "err", pe.Msg)
			return plain(w, pe.Code, "%s", pe.Msg)
		}
		return plain(w, http.StatusBadRequest, "%v", err)
	}
	res := rt.Mapper.Map(msg, h.now())
	h.account(msg, &res)

	ctx, cancel := deliveryContext(r, rt.RequestTimeout)
	defer cancel()
	rep := h.deliver(ctx, rt, res.Events)

	resp := Response{Status: "success", Rejected: len(res.Rejected), Report: rep}
	code := http.StatusOK
	if rep.Retry() {
		// 5xx is the only answer Alertmanager retries; what did arrive is in
		// the idempotency window, so the retry brings only the rest.
		resp.Status, code = "retry", http.StatusServiceUnavailable
	}
	return reply(w, code, &resp)
}

// deliveryContext bounds a delivery by global.request_timeout but not by the
// caller's connection: when the caller gives up (Alertmanager ends a flush
// after group_interval, or its webhook timeout passes), posts under way
// finish and land in the idempotency window, so the retry skips them rather
// than posting them a second time.
func deliveryContext(r *http.Request, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
}

// reply writes v as the JSON answer of a delivery (200 or 503).
func reply(w http.ResponseWriter, code int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
	return code
}

func (h *Webhook) decode(r *http.Request, rt *config.Runtime) (*payload.Message, error) {
	if err := payload.CheckContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	body, err := payload.ReadBody(r.Body, r.ContentLength, rt.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return payload.Decode(body)
}

// account counts what arrived and reports rejected alerts with one warning
// per request, so a group of a thousand unlabelled alerts is one log line.
func (h *Webhook) account(msg *payload.Message, res *event.Result) {
	// One metric update per status, not per alert: Decode let through only
	// firing and resolved.
	firing := 0
	for i := range msg.Alerts {
		if msg.Alerts[i].Firing() {
			firing++
		}
	}
	if firing > 0 {
		h.m.firing.Add(float64(firing))
	}
	if resolved := len(msg.Alerts) - firing; resolved > 0 {
		h.m.resolved.Add(float64(resolved))
	}
	if msg.TruncatedAlerts > 0 {
		h.m.truncated.Add(float64(msg.TruncatedAlerts))
		level.Warn(h.logger).Log("msg", "Alertmanager truncated the notification (max_alerts); those alerts produce no events",
			"truncated", msg.TruncatedAlerts, "group_key", msg.GroupKey)
	}
	if res.TemplateErr != nil {
		h.m.templateErrors.Inc()
		level.Warn(h.logger).Log("msg", "message template failed; sent the default message", "group_key", msg.GroupKey, "err", res.TemplateErr)
	}
	if res.SkippedResolvedLifecycle > 0 {
		h.m.skipped.WithLabelValues("resolved_lifecycle").Add(float64(res.SkippedResolvedLifecycle))
	}
	if res.SkippedResolvedProblems > 0 {
		h.m.skipped.WithLabelValues("resolved_problem").Add(float64(res.SkippedResolvedProblems))
	}
	if len(res.Rejected) == 0 {
		return
	}
	reasons := map[string]int{}
	var fps []string
	for _, rj := range res.Rejected {
		h.m.rejected.WithLabelValues(rj.Reason).Inc()
		reasons[rj.Reason]++
		if len(fps) < 5 {
			fps = append(fps, rj.Fingerprint)
		}
	}
	level.Warn(h.logger).Log("msg", "alerts without a canary name or namespace produce no event",
		"rejected", len(res.Rejected), "missing_name", reasons[event.ReasonMissingName],
		"missing_namespace", reasons[event.ReasonMissingNamespace],
		"fingerprints", strings.Join(fps, ","), "group_key", msg.GroupKey)
}

func plain(w http.ResponseWriter, code int, format string, args ...any) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, format+"\n", args...)
	return code
}
