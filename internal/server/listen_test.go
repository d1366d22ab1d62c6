package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// TestMaxConnections: with MaxConnections 2 the third connection waits until
// one of the first two closes; TLS and auth still come from the web config
// (an empty one here).
func TestMaxConnections(t *testing.T) {
	addr := testutil.FreeAddr(t)
	opts := Options{
		Name: "test", Logger: log.NewNopLogger(), MaxConnections: 2,
		Web: &web.FlagConfig{WebListenAddresses: &[]string{addr}, WebSystemdSocket: new(bool), WebConfigFile: new(string)},
	}
	h, err := Handler(opts, http.NewServeMux())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts, h) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	healthy := func(timeout time.Duration) bool {
		c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	deadline := time.Now().Add(5 * time.Second)
	for !healthy(time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("server did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Two idle clients hold both slots.
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond) // both accepted
	if healthy(300 * time.Millisecond) {
		t.Fatal("a third connection was served while two were open")
	}
	held[0].Close()
	if !healthy(2 * time.Second) {
		t.Error("not served after a slot was freed")
	}
	held[1].Close()
}
