package harness

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/rest"
)

// A Link is one client's own path to the API server, which a test can cut
// and restore while the API server and every other client carry on: the
// exporter is partitioned from the control plane, and the test changes the
// cluster behind its back.
type Link struct {
	fwd     *forwarder
	backend string
}

// NewLink opens a link to the API server (through its stable address, so it
// survives API server restarts).
func (c *Cluster) NewLink(t testing.TB) *Link {
	t.Helper()
	f, err := newForwarder()
	if err != nil {
		t.Fatalf("harness: link: %v", err)
	}
	t.Cleanup(f.close)
	l := &Link{fwd: f, backend: c.fwd.addr()}
	f.setBackend(l.backend)
	return l
}

// Config is cfg redirected through the link.
func (l *Link) Config(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Host = "https://" + l.fwd.addr()
	return out
}

// Cut closes the link's connections and refuses new ones until Restore.
func (l *Link) Cut() { l.fwd.setBackend("") }

// Restore lets the link's client reach the API server again.
func (l *Link) Restore() { l.fwd.setBackend(l.backend) }

// CompactEtcd compacts etcd at its current revision, as the API server does
// every five minutes: watches from any older resource version then get 410
// Gone, once the API server's watch cache no longer holds them either (after
// a restart).
func (c *Cluster) CompactEtcd(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	resp, err := c.etcd.Client.Get(ctx, "compact-probe")
	if err != nil {
		t.Fatalf("harness: etcd revision: %v", err)
	}
	rev := resp.Header.Revision
	if _, err := c.etcd.Client.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("harness: etcd compact at %d: %v", rev, err)
	}
	return rev
}
