package deliver

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// post delivers one body to t, retrying transient failures with exponential
// backoff for as long as ctx allows. It gives up early rather than sleep past
// the deadline, so the answer to Alertmanager is never late.
func (d *Deliverer) post(ctx context.Context, t *Target, st *targetState, r request) outcome {
	start := time.Now()
	defer func() { st.latency().Observe(time.Since(start).Seconds()) }()
	for attempt := 0; ; attempt++ {
		out := d.attempt(ctx, t, r)
		if out.ok || !out.retry || attempt >= t.Policy.MaxRetries || ctx.Err() != nil {
			return out
		}
		delay := backoff(t.Policy, attempt, out.retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= delay {
			return out
		}
		d.m.retries.WithLabelValues(t.Name, out.reason).Inc()
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return out
		}
	}
}

func (d *Deliverer) attempt(ctx context.Context, t *Target, r request) outcome {
	actx, cancel := context.WithTimeout(ctx, t.Policy.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, string(t.URL), bytes.NewReader(r.body))
	if err != nil {
		return outcome{reason: ReasonTransport, err: redact(err)}
	}
	// Canonical keys already: assign instead of Header.Set.
	req.Header["Content-Type"] = []string{"application/json"}
	if t.UserAgent != "" {
		req.Header["User-Agent"] = []string{t.UserAgent}
	}
	if r.key != "" {
		req.Header[HeaderIdempotencyKey] = []string{r.key}
	}
	if r.signature != "" {
		req.Header[HeaderSignature] = []string{r.signature}
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return transportOutcome(ctx, actx, err)
	}
	defer resp.Body.Close()
	// Read a little for the error message and drain the rest (bounded) so
	// the keep-alive connection can be reused. An accepted event needs no
	// message: only drain, as much as the error path reads in all.
	if accepted(resp.StatusCode) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, headBytes+64<<10))
		return outcome{ok: true}
	}
	var head [headBytes]byte
	n, _ := io.ReadFull(resp.Body, head[:])
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return classify(resp, strings.TrimSpace(strings.ToValidUTF8(string(head[:n]), "?")))
}

// headBytes of a refusal's body go into the error message.
const headBytes = 256

// backoff doubles from MinBackoff up to MaxBackoff with jitter (half fixed,
// half random) so many canaries failing at once do not retry in lockstep. A
// Retry-After from the target wins when it asks for longer.
func backoff(p Policy, attempt int, retryAfter time.Duration) time.Duration {
	d := p.MinBackoff
	for i := 0; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	if d > 1 {
		d = d/2 + rand.N(d/2)
	}
	return max(d, retryAfter)
}
