// Package payload decodes and validates the body of an Alertmanager webhook
// notification into the adapter's own small types. It deliberately does not
// import Alertmanager: linking its template or notify packages would pull
// hundreds of packages into the binary for a struct this size.
package payload

import "time"

// Version is the only webhook protocol version Alertmanager has ever sent
// (0.x through at least 0.34); a different value means a body this adapter
// does not understand.
const Version = "4"

// Alert statuses as Alertmanager spells them.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Message is one webhook notification: Alertmanager's template.Data plus the
// webhook envelope. Fields added by newer releases (notification_reason in
// 0.32, routeLabels in 0.34) are optional; unknown fields are ignored so a
// future release does not break delivery.
type Message struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    uint64            `json:"truncatedAlerts"`
	Receiver           string            `json:"receiver"`
	Status             string            `json:"status"`
	Alerts             []Alert           `json:"alerts"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	RouteLabels        map[string]string `json:"routeLabels"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason string            `json:"notification_reason"`
}

// Alert is one alert of a notification. EndsAt is the zero time
// (0001-01-01T00:00:00Z) when Alertmanager does not know it yet.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Firing reports whether the alert is firing (anything else was rejected by
// Decode, so not firing means resolved).
func (a *Alert) Firing() bool { return a.Status == StatusFiring }
