package events

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	observed    *prometheus.CounterVec
	ignored     prometheus.Counter
	stale       prometheus.Counter
	watchErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, r *Relay) *metrics {
	m := &metrics{
		observed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_exporter_events_observed_total",
			Help: "New occurrences of Kubernetes Events on exported canaries, by event type.",
		}, []string{"type"}),
		ignored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flagger_exporter_events_ignored_total",
			Help: "Events on canaries the exporter does not export (other namespaces or label selector, or deleted).",
		}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flagger_exporter_events_stale_total",
			Help: "Per-step Events found at start-up older than --events.alert-lifetime, not sent to Alertmanager.",
		}),
		watchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_exporter_event_watch_errors_total",
			Help: "List and watch failures of the Event informers, by reason (as flagger_exporter_watch_errors_total).",
		}, []string{"reason"}),
	}
	m.observed.WithLabelValues("Normal")
	m.observed.WithLabelValues("Warning")
	m.watchErrors.WithLabelValues("forbidden")
	if reg != nil {
		reg.MustRegister(m.observed, m.ignored, m.stale, m.watchErrors, latestCollector{r},
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "flagger_exporter_event_cache_synced",
				Help: "1 when every Event informer has completed its first list: from then on every occurrence is relayed as it happens.",
			}, func() float64 {
				if r.Synced() {
					return 1
				}
				return 0
			}))
	}
	return m
}

// LastStepMetric is the family of each canary's latest step.
const LastStepMetric = "flagger_canary_last_step_timestamp_seconds"

// latestDesc: one series per canary with per-step Events, its labels the
// latest step (not a lifecycle event: the notices are those). The message
// is a label so that alert annotations can quote it (`query` in the
// mixin's last_step annotation); its value is the time, so a repeat of the
// same message is visible as a new value.
var latestDesc = prometheus.NewDesc(LastStepMetric,
	"Unix time of Flagger's latest per-step Kubernetes Event on the canary (every message it posts but the lifecycle ones: weight steps, failed checks, hook results, rollback reasons), with its type and message (at most 1024 bytes).",
	[]string{"namespace", "canary", "type", "message"}, nil)

type latestCollector struct{ r *Relay }

func (c latestCollector) Describe(ch chan<- *prometheus.Desc) { ch <- latestDesc }

func (c latestCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.r.Latest() {
		ch <- prometheus.MustNewConstMetric(latestDesc, prometheus.GaugeValue,
			float64(s.Time.UnixNano())/1e9, s.Namespace, s.Canary, s.Type, s.Message)
	}
}

type forwardMetrics struct {
	sent, failed, expired, dropped *prometheus.CounterVec
}

func newForwardMetrics(reg prometheus.Registerer) *forwardMetrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"alertmanager"})
	}
	m := &forwardMetrics{
		sent:    vec("flagger_exporter_step_alerts_sent_total", "Step alerts Alertmanager accepted."),
		failed:  vec("flagger_exporter_step_alert_requests_failed_total", "Requests to Alertmanager that failed and were retried."),
		expired: vec("flagger_exporter_step_alerts_expired_total", "Step alerts dropped: Alertmanager refused them (a 4xx other than 408 and 429), or stayed unreachable for their whole lifetime."),
		dropped: vec("flagger_exporter_step_alerts_dropped_total", "Step alerts dropped from a full queue (the oldest first)."),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.expired, m.dropped)
	}
	return m
}

func (m *forwardMetrics) init(am string) {
	for _, v := range []*prometheus.CounterVec{m.sent, m.failed, m.expired, m.dropped} {
		v.WithLabelValues(am)
	}
}
