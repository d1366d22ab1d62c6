package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/deliver"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
)

// Path is where a replica takes events forwarded by another. It is served
// on the same listener as the webhook, behind the same --web.config.file.
const Path = "/-/peer/deliver"

// Wire is one event as replicas exchange it: the body Flagger's consumers
// get, plus what delivery needs and the body does not carry.
type Wire struct {
	Event  event.Event       `json:"event"`
	Labels map[string]string `json:"labels"`
	Key    string            `json:"key"`
}

// Encode and Decode are the two ends of a forward.
func Encode(evs []event.Event) ([]byte, error) {
	w := make([]Wire, len(evs))
	for i, e := range evs {
		w[i] = Wire{Event: e, Labels: e.Labels, Key: e.Key}
	}
	return json.Marshal(w)
}

// Decode reads forwarded events; every one needs a canary and a key.
func Decode(r io.Reader) ([]event.Event, error) {
	var w []Wire
	if err := json.NewDecoder(r).Decode(&w); err != nil {
		return nil, fmt.Errorf("forwarded events: %w", err)
	}
	evs := make([]event.Event, len(w))
	for i, x := range w {
		if x.Key == "" || x.Event.Name == "" || x.Event.Namespace == "" {
			return nil, fmt.Errorf("forwarded event %d: name, namespace and key are required", i)
		}
		evs[i] = x.Event
		evs[i].Labels, evs[i].Key = x.Labels, x.Key
	}
	return evs, nil
}

// ErrUnreachable: the owner could not be reached at all, so it cannot have
// delivered anything; the caller may deliver in its place.
var ErrUnreachable = errors.New("peer unreachable")

// Forward posts evs to the replica at base and returns its delivery report.
// A 503 carries a report too (some event is pending); only a failure to
// connect is ErrUnreachable, anything later is an error the caller must
// count as pending, since the owner may have delivered.
func Forward(ctx context.Context, client *http.Client, base string, evs []event.Event) (*deliver.Report, error) {
	body, err := Encode(evs)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+Path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w: %s", ErrUnreachable, op.Err)
		}
		return nil, fmt.Errorf("forward to peer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, fmt.Errorf("peer answered %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var rep deliver.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("peer report: %w", err)
	}
	return &rep, nil
}
