package events

import (
	"strconv"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// AlertName is the alertname of a relayed step. alertmanager.yml routes it to
// the event adapter only: chat gets the latest step inside the notices
// instead (the last_step annotation), not a message per step.
const AlertName = "FlaggerCanaryStep"

// DefaultSeverity is the step alerts' severity label unless configured: the
// mixin's default noticeSeverity. Not "info": kube-prometheus-stack's
// InfoInhibitor mutes every info alert of a namespace with no warning.
const DefaultSeverity = "notice"

// Alert is one alert as Alertmanager's API v2 takes it (POST
// /api/v2/alerts), the same shape Prometheus sends.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// alertFor: one occurrence of a step, firing from at for lifetime. The
// labels name the occurrence (the Event's uid and count), so Alertmanager
// keeps every step apart and merges only a re-send of the same one. The
// phase and checksum are the canary's as the exporter sees it when the
// step arrives, which is what Flagger's own post carries in all but the
// steps that change the phase (docs/conformance.md counts them).
func alertFor(s Step, f canary.Facts, at time.Time, lifetime time.Duration, severity string) Alert {
	a := Alert{
		Labels: map[string]string{
			"alertname": AlertName,
			"namespace": s.Namespace,
			"canary":    s.Canary,
			"severity":  severity,
			"event":     s.UID + "/" + strconv.FormatInt(int64(s.Count), 10),
		},
		Annotations: map[string]string{
			"message":    s.Message,
			"event_type": s.Type,
			"summary":    "Flagger: " + s.Message,
		},
		// Milliseconds, as Alertmanager keeps them and the adapter's
		// timestamp carries them.
		StartsAt: at.UTC().Truncate(time.Millisecond),
		EndsAt:   at.Add(lifetime).UTC().Truncate(time.Millisecond),
	}
	if f.Phase != flagger.PhaseUnknown {
		a.Labels["phase"] = f.Phase.String()
	}
	if f.Checksum != "" {
		a.Annotations["checksum"] = f.Checksum
	}
	return a
}
