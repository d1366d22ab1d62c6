package adapter_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Alertmanager gives up on a notification (its flush ends, or its webhook
// timeout passes) while the adapter is posting it. The post finishes anyway
// and is remembered, so Alertmanager's retry is a duplicate, not a second
// delivery.
func TestAbandonedNotificationIsRemembered(t *testing.T) {
	var got atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		time.Sleep(150 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(slow.Close)
	e := newEnv(t, targetConfig(slow.URL))
	body := group(1, 1, 1)

	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := impatient.Post(e.webhookURL(), "application/json", bytes.NewReader(body)); err == nil {
		t.Fatal("the impatient client did not time out: the test proves nothing")
	}
	// The abandoned post reached the consumer; the retry then waits for it
	// to settle (a second request with the same event waits for the first).
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned notification never reached the consumer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	code, resp := post(t, e.webhookURL(), body)
	if code != http.StatusOK || !strings.Contains(resp, `"duplicates":1`) {
		t.Errorf("retry after the abandoned notification: %d %s; want 200 with the event a duplicate", code, resp)
	}
	if n := got.Load(); n != 1 {
		t.Errorf("consumer got %d posts, want 1", n)
	}
}

// Shed notifications close their connection, so Alertmanager's idle pool
// does not keep one open here per retrying group.
func TestShedClosesConnection(t *testing.T) {
	hang, arrived := make(chan struct{}), make(chan struct{}, 8)
	consumer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-hang
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(func() { close(hang); consumer.Close() })
	e := newEnv(t, "global: {max_in_flight: 1}\n"+targetConfig(consumer.URL))
	go http.Post(e.webhookURL(), "application/json", bytes.NewReader(group(1, 1, 1))) //nolint:errcheck // holds the one slot
	select {                                                                          // the first notification holds the one slot
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the first notification never reached the consumer")
	}
	resp, err := http.Post(e.webhookURL(), "application/json", bytes.NewReader(group(2, 1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close || resp.Header.Get("Retry-After") == "" {
		t.Errorf("shed answer: %d, close %v, Retry-After %q; want 503 closing the connection with Retry-After", resp.StatusCode, resp.Close, resp.Header.Get("Retry-After"))
	}
}
