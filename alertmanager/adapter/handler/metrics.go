package handler

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	requests *prometheus.CounterVec
	// The series every notification touches, resolved once: a label lookup
	// per request showed in the single-alert profile. requestsOK and
	// requestsRetry appear on first use, as with WithLabelValues.
	requestsOK, requestsRetry func() prometheus.Counter
	firing, resolved          prometheus.Counter

	duration       prometheus.Histogram
	alerts         *prometheus.CounterVec
	rejected       *prometheus.CounterVec
	skipped        *prometheus.CounterVec
	truncated      prometheus.Counter
	templateErrors prometheus.Counter
	forwards       *prometheus.CounterVec
	shed           prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_requests_total",
			Help: "Webhook requests received, by the status code answered.",
		}, []string{"code"}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:                        "flagger_event_adapter_request_duration_seconds",
			Help:                        "Time from receiving a webhook request to answering it, delivery included.",
			Buckets:                     []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
			NativeHistogramBucketFactor: 1.1,
		}),
		alerts: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_alerts_received_total",
			Help: "Alerts received in valid webhook requests, by status.",
		}, []string{"status"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_alerts_rejected_total",
			Help: "Alerts that could not become a Flagger event, by reason; answered 2xx, so never retried.",
		}, []string{"reason"}),
		skipped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_alerts_skipped_total",
			Help: "Alerts that produce no event by design, by reason (resolved_lifecycle: a lifecycle step ended because the next one began).",
		}, []string{"reason"}),
		truncated: f.NewCounter(prometheus.CounterOpts{
			Name: "flagger_event_adapter_alerts_truncated_total",
			Help: "Alerts Alertmanager left out of notifications (max_alerts), as it reported in truncatedAlerts.",
		}),
		templateErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "flagger_event_adapter_message_template_errors_total",
			Help: "Notifications where the message template failed for some alert; those events carry the default message.",
		}),
		shed: f.NewCounter(prometheus.CounterOpts{
			Name: "flagger_event_adapter_requests_shed_total",
			Help: "Webhook requests answered 503 at once because global.max_in_flight notifications were being delivered.",
		}),
		forwards: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_peer_forwards_total",
			Help: "Batches of events forwarded to the replica owning their canaries (cluster.peers), by result: ok (the owner answered), fallback (the owner was unreachable; delivered here), failed (no answer after connecting; left pending for Alertmanager's retry).",
		}, []string{"result"}),
	}
	for _, r := range []string{forwardOK, forwardFallback, forwardFailed} {
		m.forwards.WithLabelValues(r)
	}
	m.requestsOK = sync.OnceValue(func() prometheus.Counter { return m.requests.WithLabelValues(strconv.Itoa(http.StatusOK)) })
	m.requestsRetry = sync.OnceValue(func() prometheus.Counter {
		return m.requests.WithLabelValues(strconv.Itoa(http.StatusServiceUnavailable))
	})
	// Pre-create the series dashboards and alerts look for, so they exist at 0.
	m.firing, m.resolved = m.alerts.WithLabelValues("firing"), m.alerts.WithLabelValues("resolved")
	for _, r := range []string{"missing_name", "missing_namespace"} {
		m.rejected.WithLabelValues(r)
	}
	m.skipped.WithLabelValues("resolved_lifecycle")
	m.skipped.WithLabelValues("resolved_problem")
	return m
}

func (m *metrics) request(code int) prometheus.Counter {
	switch code {
	case http.StatusOK:
		return m.requestsOK()
	case http.StatusServiceUnavailable:
		return m.requestsRetry()
	}
	return m.requests.WithLabelValues(strconv.Itoa(code))
}
