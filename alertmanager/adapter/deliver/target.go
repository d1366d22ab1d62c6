// Package deliver posts Flagger events to the configured targets: retries
// with backoff inside the request's deadline, per-canary ordering, and an
// idempotency window so Alertmanager's retries do not send an event twice.
package deliver

import (
	"net/http"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Secret holds a value that must never reach a log line or an error string;
// %v and %s print a placeholder.
type Secret string

func (Secret) String() string { return "<secret>" }

// Policy is how hard delivery tries one target.
type Policy struct {
	Timeout     time.Duration // one attempt
	MaxRetries  int           // attempts after the first
	MinBackoff  time.Duration // before the first retry; doubles each time
	MaxBackoff  time.Duration
	Concurrency int // canaries posted to this target in parallel
}

// Target is one consumer of Flagger events. The URL comes from the config
// file only, never from an alert.
type Target struct {
	Name   string
	URL    Secret
	Client *http.Client
	// UserAgent, when set, is the User-Agent of every request.
	UserAgent string
	// HMACKey, when set, signs every request (see sign). Never logged.
	HMACKey  []byte
	Matchers []*labels.Matcher // all must match; none selects every alert
	Policy   Policy
}

// Selects reports whether the alert with these labels goes to t. A matcher on
// a label the alert lacks sees the empty string, as in Alertmanager routes.
func (t *Target) Selects(l map[string]string) bool {
	for _, m := range t.Matchers {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}
