// Package event maps Alertmanager alerts to the body of Flagger's event
// webhook, so a consumer written for Flagger can be fed from alerts.
package event

// Metadata keys Flagger itself sends; configured extra metadata never
// overwrites them.
const (
	KeyMessage   = "eventMessage"
	KeyType      = "eventType"
	KeyTimestamp = "timestamp"
)

// Event types, as Kubernetes spells them and Flagger sends them.
const (
	TypeNormal  = "Normal"
	TypeWarning = "Warning"
)

// Event is Flagger's event-webhook body. The field order is Flagger's, which
// is also the order encoding/json writes them in.
type Event struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata"`

	// Labels are the alert's labels, kept for routing to targets by matchers;
	// they are not part of the body.
	Labels map[string]string `json:"-"`
	// Key identifies this state of this alert, for idempotent delivery (see
	// key). It differs from Checksum, which Flagger sends the same for every
	// event of one revision.
	Key string `json:"-"`
}

// Canary identifies the canary an event is about; delivery keeps events of
// one canary in order.
func (e *Event) Canary() string { return e.Namespace + "/" + e.Name }

// Rejection is an alert that could not become an event. It is reported, not
// retried: the same alert will never grow a canary name on a retry.
type Rejection struct {
	Index       int    `json:"index"`       // position in the notification's alerts
	Fingerprint string `json:"fingerprint"` // Alertmanager's fingerprint, to find the alert
	Reason      string `json:"reason"`      // one of the Reason constants; a metric label
}

// Rejection reasons.
const (
	ReasonMissingName      = "missing_name"
	ReasonMissingNamespace = "missing_namespace"
)
