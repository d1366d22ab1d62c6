package deliver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	sent       *prometheus.CounterVec
	failed     *prometheus.CounterVec
	retries    *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	unrouted   prometheus.Counter
	latency    *prometheus.HistogramVec
	entries    *prometheus.GaugeVec
	evictions  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		sent: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_events_sent_total",
			Help: "Events a target accepted (status 200-202).",
		}, []string{"target"}),
		failed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_events_failed_total",
			Help: "Events a target did not accept after all retries, by the last attempt's reason.",
		}, []string{"target", "reason"}),
		retries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_event_retries_total",
			Help: "Attempts that failed transiently and were retried, by reason.",
		}, []string{"target", "reason"}),
		duplicates: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_duplicates_skipped_total",
			Help: "Events not posted because the target already accepted them within the idempotency window.",
		}, []string{"target"}),
		unrouted: f.NewCounter(prometheus.CounterOpts{
			Name: "flagger_event_adapter_events_unrouted_total",
			Help: "Events no target's matchers selected.",
		}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        "flagger_event_adapter_delivery_duration_seconds",
			Help:                        "Time to deliver one event to one target, retries included.",
			Buckets:                     []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
			NativeHistogramBucketFactor: 1.1,
		}, []string{"target"}),
		entries: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagger_event_adapter_idempotency_entries",
			Help: "Delivered events remembered per target.",
		}, []string{"target"}),
		evictions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_event_adapter_idempotency_evictions_total",
			Help: "Remembered events dropped before the window ended because the target hit max entries; a retry may then duplicate them.",
		}, []string{"target"}),
	}
}
