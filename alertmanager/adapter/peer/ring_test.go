package peer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/event"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
)

var sts = []string{
	"http://flagger-event-adapter-0.flagger-event-adapter.monitoring.svc:9099",
	"http://flagger-event-adapter-1.flagger-event-adapter.monitoring.svc:9099",
	"http://flagger-event-adapter-2.flagger-event-adapter.monitoring.svc:9099",
}

func TestSelfFromHostnameOrFlag(t *testing.T) {
	r, err := peer.NewRing(sts, "", "flagger-event-adapter-1")
	if err != nil || r.Self != 1 {
		t.Fatalf("hostname: %+v %v", r, err)
	}
	if r, err = peer.NewRing(sts, sts[2]+"/", "whatever"); err != nil || r.Self != 2 {
		t.Fatalf("--cluster.self-url wins over the hostname: %+v %v", r, err)
	}
	for _, c := range []struct{ self, host, want string }{
		{"", "flagger-event-adapter-7", "hostname flagger-event-adapter-7"},
		{"http://elsewhere:9099", "", "--cluster.self-url http://elsewhere:9099"},
	} {
		if _, err := peer.NewRing(sts, c.self, c.host); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := peer.NewRing([]string{"http://a:1", "ftp://b"}, "http://a:1", ""); err == nil || !strings.Contains(err.Error(), "peers[1]") {
		t.Errorf("bad URL: %v", err)
	}
	if r, err := peer.NewRing(nil, "", "x"); r != nil || err != nil {
		t.Errorf("no peers is no ring: %+v %v", r, err)
	}
}

// Every replica computes the same owner; canaries spread over all of them;
// removing a replica moves only the canaries it owned.
func TestOwnerIsStableAndSpread(t *testing.T) {
	a, _ := peer.NewRing(sts, sts[0], "")
	b, _ := peer.NewRing(sts, sts[2], "")
	small, _ := peer.NewRing(sts[:2], sts[0], "")
	count := make([]int, len(sts))
	moved := 0
	const n = 3000
	for i := range n {
		c := fmt.Sprintf("team-%d/app-%d", i%17, i)
		o := a.Owner(c)
		if b.Owner(c) != o {
			t.Fatalf("replicas disagree on %s", c)
		}
		count[o]++
		if so := small.Owner(c); o < 2 && so != o {
			moved++
		}
	}
	for i, k := range count {
		if k < n/len(sts)*8/10 {
			t.Errorf("replica %d owns %d of %d canaries: %v", i, k, n, count)
		}
	}
	if moved > 0 {
		t.Errorf("removing replica 2 moved %d canaries between the others", moved)
	}
}

// Loopback peers differing only in their port still split the canaries.
func TestOwnerSpreadsOverNearIdenticalURLs(t *testing.T) {
	for port := 40000; port < 40200; port++ {
		r := &peer.Ring{URLs: []string{fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", port+1)}}
		owned := 0
		for i := range 40 {
			owned += r.Owner(fmt.Sprintf("bench/c%d", i))
		}
		if owned < 8 || owned > 32 {
			t.Fatalf("ports %d,%d: replica 1 owns %d of 40 canaries", port, port+1, owned)
		}
	}
}

func TestWireRoundTripAndRefusals(t *testing.T) {
	in := []event.Event{{Name: "app", Namespace: "ns", Phase: "Progressing", Checksum: "5d6b", Metadata: map[string]string{"eventMessage": "m"},
		Labels: map[string]string{"alertname": "FlaggerCanaryStep", "team": "a"}, Key: "0123456789abcdef"}}
	b, err := peer.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := peer.Decode(strings.NewReader(string(b)))
	if err != nil || len(out) != 1 || out[0].Key != in[0].Key || out[0].Labels["team"] != "a" || out[0].Metadata["eventMessage"] != "m" || out[0].Checksum != "5d6b" {
		t.Fatalf("round trip: %+v %v", out, err)
	}
	for _, body := range []string{`{`, `[{"event":{"name":"a","namespace":"b"}}]`, `[{"event":{"namespace":"b"},"key":"k"}]`} {
		if _, err := peer.Decode(strings.NewReader(body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}
