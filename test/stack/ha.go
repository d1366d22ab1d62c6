package stack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// peerTimeout is --cluster.peer-timeout of the HA peers: how long the second
// peer waits for the first one's notification to arrive by gossip before it
// sends its own. Alertmanager's default, 15s, is short next to production's
// steps (a Flagger analysis interval is a minute or more); here steps last
// seconds, so it is shortened by the same factor as the group timings (see
// amRewrites) rather than left longer than a step.
const peerTimeout = "1s"

// clusterArgs are the gossip flags of n Alertmanagers: none for one (no
// cluster), else each peer listens on its own loopback port and, unless
// partitioned, joins the others.
func (s *Stack) clusterArgs(t testing.TB, n int) [][]string {
	t.Helper()
	if n == 1 {
		return [][]string{{"--cluster.listen-address="}}
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = harness.FreeAddr(t)
	}
	out := make([][]string, n)
	for i, a := range addrs {
		out[i] = []string{
			"--cluster.listen-address=" + a,
			"--cluster.advertise-address=" + a,
			"--cluster.peer-timeout=" + peerTimeout,
			// Gossip settles in seconds on loopback; do not hold the
			// first notifications for the default minute.
			"--cluster.settle-timeout=5s",
		}
		if s.opts.Partitioned {
			continue
		}
		for j, p := range addrs {
			if j != i {
				out[i] = append(out[i], "--cluster.peer="+p)
			}
		}
	}
	return out
}

// waitPeers waits until every peer reports the cluster ready with all peers.
func (s *Stack) waitPeers(t testing.TB) {
	t.Helper()
	for _, u := range s.AlertmanagerURLs {
		harness.Eventually(t, 60*time.Second, func() string {
			var st struct {
				Cluster struct {
					Status string            `json:"status"`
					Peers  []json.RawMessage `json:"peers"`
				} `json:"cluster"`
			}
			code, body := harness.Get(u + "/api/v2/status")
			if code != http.StatusOK || json.Unmarshal(body, &st) != nil {
				return fmt.Sprintf("alertmanager %s status: %d %s", u, code, body)
			}
			if st.Cluster.Status != "ready" || len(st.Cluster.Peers) != len(s.AlertmanagerURLs) {
				return fmt.Sprintf("alertmanager %s cluster %s with %d peers", u, st.Cluster.Status, len(st.Cluster.Peers))
			}
			return ""
		})
	}
}

// startAdapters runs one flagger-event-adapter, or (HA) two replicas that
// list each other in cluster.peers, behind a balancer that sends each
// request to the next replica in turn: the worst case for duplicates, since
// the two peers' copies of one notification meet at different replicas as
// often as at one.
func (s *Stack) startAdapters(t testing.TB) {
	t.Helper()
	if !s.opts.HA {
		s.AdapterURL = s.startAdapter(t, harness.FreeAddr(t), nil).URL
		return
	}
	addrs := []string{harness.FreeAddr(t), harness.FreeAddr(t)}
	var peers []string
	if !s.opts.SeparateAdapters {
		peers = []string{"http://" + addrs[0], "http://" + addrs[1]}
	}
	var backends []*url.URL
	for _, a := range addrs {
		parsed, err := url.Parse(s.startAdapter(t, a, peers).URL)
		if err != nil {
			t.Fatal(err)
		}
		backends = append(backends, parsed)
	}
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backends[next.Add(1)%uint64(len(backends))])
	}}
	lb := httptest.NewServer(proxy)
	t.Cleanup(lb.Close)
	s.AdapterURL = lb.URL
}
