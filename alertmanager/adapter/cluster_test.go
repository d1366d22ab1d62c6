package adapter_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
)

// replicas starts n adapters listing each other in cluster.peers, or with
// flags the way --cluster.peer does (the file then lists a stale peer,
// which the flags replace).
func replicas(t *testing.T, n int, targets string, flags bool) []*env {
	t.Helper()
	srvs := make([]*httptest.Server, n)
	var urls []string
	for i := range srvs {
		srvs[i] = httptest.NewUnstartedServer(nil)
		urls = append(urls, "http://"+srvs[i].Listener.Addr().String())
	}
	cfg := targets + "cluster:\n  peers: [" + strings.Join(urls, ", ") + "]\n"
	var peers []string
	if flags {
		cfg, peers = targets+"cluster:\n  peers: [http://gone.invalid:9099]\n", urls
	}
	out := make([]*env, n)
	for i, srv := range srvs {
		out[i] = startEnv(t, cfg, adapter.Options{SelfURL: urls[i], Peers: peers, Logger: log.NewNopLogger()}, srv)
	}
	return out
}

func forwards(t *testing.T, e *env, result string) float64 {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "flagger_event_adapter_peer_forwards_total" {
			for _, m := range f.GetMetric() {
				if m.GetLabel()[0].GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no forwards series for %s", result)
	return 0
}

// One notification reaching both replicas (two Alertmanager peers, a
// Service picking a different replica for each) is delivered once: each
// canary's events go through its owner's idempotency window. An owner that
// is gone has its canaries delivered by the replica that got them.
func TestReplicasShareOneWindow(t *testing.T) {
	for _, flags := range []bool{false, true} {
		t.Run(map[bool]string{false: "config", true: "flags"}[flags], func(t *testing.T) { shareOneWindow(t, flags) })
	}
}

func shareOneWindow(t *testing.T, flags bool) {
	c := newConsumer(t, nil)
	rs := replicas(t, 2, targetConfig(c.URL), flags)
	body := group(1, 40, 40) // 40 canaries: both replicas own some
	for _, r := range rs {
		if code, resp := post(t, r.webhookURL(), body); code != http.StatusOK {
			t.Fatalf("%d %s", code, resp)
		}
	}
	if got := len(c.events()); got != 40 {
		t.Errorf("consumer got %d events for 40 alerts sent through both replicas", got)
	}
	for i, r := range rs {
		if forwards(t, r, "ok") < 1 {
			t.Errorf("replica %d forwarded nothing: it owns every canary?", i)
		}
	}

	rs[1].srv.Close()
	code, resp := post(t, rs[0].webhookURL(), group(2, 40, 40))
	if code != http.StatusOK || !strings.Contains(resp, `"delivered":40`) {
		t.Errorf("with the other replica gone: %d %s", code, resp)
	}
	if forwards(t, rs[0], "fallback") < 1 {
		t.Error("no fallback counted")
	}
	if got := len(c.events()); got != 80 {
		t.Errorf("consumer has %d events, want 80", got)
	}
}

func TestPeerEndpointRefusesGarbage(t *testing.T) {
	c := newConsumer(t, nil)
	rs := replicas(t, 1, targetConfig(c.URL), false)
	for _, body := range []string{"{", `[{"event":{"name":"a"}}]`} {
		code, resp := post(t, rs[0].srv.URL+peer.Path, []byte(body))
		if code != http.StatusBadRequest || !strings.Contains(resp, "forwarded event") {
			t.Errorf("%s: %d %s", body, code, resp)
		}
	}
	if len(c.events()) != 0 {
		t.Error("garbage delivered")
	}
}

func TestClusterPeerFlagsChecked(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "adapter.yml")
	if err := os.WriteFile(cfg, []byte(targetConfig("http://127.0.0.1:1/events")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := adapter.New(adapter.Options{ConfigFile: cfg, SelfURL: "http://a:9099", Peers: []string{"http://b:9099", "http://a:9099", "http://a:9099"}})
	if err == nil || !strings.Contains(err.Error(), "--cluster.peer") || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("a peer listed twice on the command line: %v", err)
	}
}
