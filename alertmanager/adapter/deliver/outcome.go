package deliver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Failure reasons, used as metric labels and in responses.
const (
	ReasonTransport  = "transport"    // connection refused, reset, closed
	ReasonTimeout    = "timeout"      // one attempt ran past the target's timeout
	ReasonDeadline   = "deadline"     // the request's overall time ran out
	ReasonStatus5xx  = "status_5xx"   // retried
	ReasonStatus429  = "status_429"   // retried, honouring Retry-After
	ReasonStatus4xx  = "status_4xx"   // final: the target refuses this event
	ReasonStatusMisc = "status_other" // final: 203-399, which Flagger's senders do not count as accepted either
	ReasonPeer       = "peer"         // forwarded to the owning replica, which gave no report
)

// outcome of one attempt.
type outcome struct {
	ok         bool
	retry      bool // transient: a later attempt (ours or Alertmanager's) may succeed
	reason     string
	err        error
	retryAfter time.Duration
}

// accepted mirrors Flagger's own webhook senders, which treat any status up to
// 202 as success: a consumer written for Flagger answers that way.
func accepted(code int) bool { return code >= 200 && code <= 202 }

// classify sorts a refusal: a response attempt did not accept.
func classify(resp *http.Response, snippet string) outcome {
	code := resp.StatusCode
	err := fmt.Errorf("target answered %d: %s", code, snippet)
	switch {
	case code == http.StatusTooManyRequests:
		return outcome{retry: true, reason: ReasonStatus429, err: err, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case code >= 500:
		return outcome{retry: true, reason: ReasonStatus5xx, err: err, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case code >= 400:
		return outcome{reason: ReasonStatus4xx, err: err}
	}
	return outcome{reason: ReasonStatusMisc, err: err}
}

// transportOutcome tells a target that hangs (attempt timeout) from a request
// that has no time left; both are transient, but the latter ends the loop.
func transportOutcome(parent, attempt context.Context, err error) outcome {
	err = redact(err)
	switch {
	case parent.Err() != nil:
		return outcome{retry: true, reason: ReasonDeadline, err: err}
	case attempt.Err() != nil:
		return outcome{retry: true, reason: ReasonTimeout, err: err}
	}
	return outcome{retry: true, reason: ReasonTransport, err: err}
}

// redact drops the URL net/http puts into its errors: a webhook URL often
// carries a token in its path or query.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// retryAfter reads delta-seconds or an HTTP date; zero when absent or bad.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}
