package kube

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	watchErrors    *prometheus.CounterVec
	decodeErrors   prometheus.Counter
	decodeWarnings prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, w *Watcher) *metrics {
	m := &metrics{
		watchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_exporter_watch_errors_total",
			Help: "List and watch failures of the canary informers, by reason (crd_missing, forbidden, unauthorized, expired, closed, other).",
		}, []string{"reason"}),
		decodeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flagger_exporter_decode_errors_total",
			Help: "Canary object versions that could not be decoded at all and were not exported.",
		}),
		decodeWarnings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flagger_exporter_decode_warnings_total",
			Help: "Canary object versions exported with some fields ignored (wrong type, unknown phase, over-long label values).",
		}),
	}
	for _, p := range []watchProblem{problemCRDMissing, problemForbidden, problemUnauthorized, problemExpired, problemClosed, problemOther} {
		m.watchErrors.WithLabelValues(p.reason)
	}
	if reg != nil {
		reg.MustRegister(m.watchErrors, m.decodeErrors, m.decodeWarnings,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "flagger_exporter_cache_synced",
				Help: "1 when every canary informer has completed its first list.",
			}, func() float64 {
				if w.Synced() == nil {
					return 1
				}
				return 0
			}))
	}
	return m
}
