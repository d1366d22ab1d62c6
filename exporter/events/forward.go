package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// Forwarder sends alerts to every configured Alertmanager, as Prometheus
// does: each Alertmanager of an HA cluster gets every alert, and they
// deduplicate among themselves. Each has its own queue and sender, so one
// that is down delays no other. A failed request is retried with backoff
// until the alerts in it would have ended; a full queue drops the oldest
// alert. Both are counted.
type Forwarder struct {
	targets []*target
}

type target struct {
	url     string // …/api/v2/alerts
	name    string // url without credentials: logs and the metric label
	client  *http.Client
	queue   chan Alert
	logger  log.Logger
	metrics *forwardMetrics
	now     func() time.Time
}

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	// URLs are Alertmanagers' base URLs (http://alertmanager:9093); only
	// configuration names them.
	URLs []string
	// Client carries TLS, basic auth and bearer tokens (from files, see
	// prometheus/common's HTTP client config); default http.DefaultClient.
	Client *http.Client
	// QueueSize bounds each Alertmanager's backlog; default 10000.
	QueueSize  int
	UserAgent  string
	Logger     log.Logger
	Registerer prometheus.Registerer
}

// maxBatch alerts go in one request, as Prometheus' notifier batches them.
const maxBatch = 64

// NewForwarder checks the URLs. Run starts the senders.
func NewForwarder(c ForwarderConfig) (*Forwarder, error) {
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 10000
	}
	if c.Logger == nil {
		c.Logger = log.NewNopLogger()
	}
	m := newForwardMetrics(c.Registerer)
	f := &Forwarder{}
	for _, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--events.alertmanager-url %q: want http(s)://host[:port][/path]", redacted(raw))
		}
		if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v2/alerts") {
			return nil, fmt.Errorf("--events.alertmanager-url %s: give Alertmanager's base URL; the exporter adds /api/v2/alerts", u.Redacted())
		}
		u = u.JoinPath("api", "v2", "alerts")
		f.targets = append(f.targets, &target{
			url: u.String(), name: u.Redacted(), client: withUserAgent(c.Client, c.UserAgent), queue: make(chan Alert, c.QueueSize),
			logger: log.With(c.Logger, "alertmanager", u.Redacted()), metrics: m, now: time.Now,
		})
		m.init(u.Redacted())
	}
	return f, nil
}

// Send queues a for every Alertmanager; it never blocks the informer.
func (f *Forwarder) Send(a Alert) {
	for _, t := range f.targets {
		for {
			select {
			case t.queue <- a:
			default:
				select { // full: the oldest alert makes room
				case <-t.queue:
					t.metrics.dropped.WithLabelValues(t.name).Inc()
				default:
				}
				continue
			}
			break
		}
	}
}

// Run sends until ctx is done.
func (f *Forwarder) Run(ctx context.Context) {
	for _, t := range f.targets {
		go t.run(ctx)
	}
	<-ctx.Done()
}

func (t *target) run(ctx context.Context) {
	for {
		var batch []Alert
		select {
		case <-ctx.Done():
			return
		case a := <-t.queue:
			batch = append(batch, a)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case a := <-t.queue:
				batch = append(batch, a)
			default:
				break fill
			}
		}
		t.deliver(ctx, batch)
	}
}

// deliver retries one batch with backoff (0.5 s doubling to 30 s) while any
// alert in it is still to fire: past its end Alertmanager would only record
// it as resolved, which sends nothing. A refusal that a retry cannot change
// (a 4xx other than 408 and 429: bad credentials, a wrong path) drops the
// batch at once, so it does not hold up the ones behind it.
func (t *target) deliver(ctx context.Context, batch []Alert) {
	body, err := json.Marshal(batch)
	if err != nil { // cannot happen for strings and times; never loop on it
		level.Error(t.logger).Log("msg", "cannot encode alerts", "err", err)
		return
	}
	last := batch[0].EndsAt
	for _, a := range batch {
		if a.EndsAt.After(last) {
			last = a.EndsAt
		}
	}
	if !t.now().Before(last) { // waited in the queue past its end
		t.metrics.expired.WithLabelValues(t.name).Add(float64(len(batch)))
		return
	}
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := t.post(ctx, body)
		if err == nil {
			t.metrics.sent.WithLabelValues(t.name).Add(float64(len(batch)))
			if attempt > 1 {
				level.Info(t.logger).Log("msg", "alerts delivered after retries", "alerts", len(batch), "attempts", attempt)
			}
			return
		}
		t.metrics.failed.WithLabelValues(t.name).Inc()
		var refused permanentError
		if errors.As(err, &refused) {
			t.metrics.expired.WithLabelValues(t.name).Add(float64(len(batch)))
			level.Error(t.logger).Log("msg", "step alerts dropped: Alertmanager refused them", "alerts", len(batch), "err", err)
			return
		}
		if attempt == 1 {
			level.Warn(t.logger).Log("msg", "cannot send step alerts to Alertmanager; retrying", "alerts", len(batch), "err", err)
		}
		if !t.now().Add(backoff).Before(last) {
			t.metrics.expired.WithLabelValues(t.name).Add(float64(len(batch)))
			level.Error(t.logger).Log("msg", "step alerts dropped: Alertmanager unreachable for their whole lifetime", "alerts", len(batch), "attempts", attempt, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (t *target) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return permanentError{err}
		}
		return err
	}
	return nil
}

// permanentError is a refusal a retry cannot change.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// withUserAgent sets the exporter's User-Agent on every request of c.
func withUserAgent(c *http.Client, ua string) *http.Client {
	if ua == "" {
		return c
	}
	cc := *c
	base := cc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = uaTransport{base, ua}
	return &cc
}

type uaTransport struct {
	base http.RoundTripper
	ua   string
}

func (t uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(r)
}
