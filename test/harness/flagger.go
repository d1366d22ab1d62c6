package harness

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// FlaggerVersion is the Flagger release pinned in tools/flagger/go.mod, whose
// controller (bin/flagger) and CRDs the conformance tests run.
const FlaggerVersion = "v1.44.0"

// FlaggerCRDs is the path of Flagger's own CRD file (canaries,
// metrictemplates, alertproviders) inside its module zip: the CRDs Flagger
// ships, not a copy. Flagger verifies all three at start.
func FlaggerCRDs(t testing.TB) string {
	t.Helper()
	dir := moduleDir(t, filepath.Join(testutil.RepoRoot(t), "tools", "flagger"), "github.com/fluxcd/flagger@"+FlaggerVersion)
	return filepath.Join(dir, "artifacts", "flagger", "crd.yaml")
}

// FlaggerOptions are the flags a test gives the real controller. Every URL
// must be a loopback recorder.
type FlaggerOptions struct {
	// MeshProvider is Flagger's global -mesh-provider; canaries may override
	// it with spec.provider.
	MeshProvider string
	EventWebhook string
	// SlackURL is Flagger's one global notifier here (-msteams-url would
	// replace it).
	SlackURL string
	// Addr is where Flagger serves /metrics (host:port); a free port when
	// empty. A restart passes the old one so Prometheus keeps scraping it.
	Addr string
}

// Flagger is the real Flagger controller running as a child process against
// the cluster.
type Flagger struct {
	*Process
	// MetricsURL is Flagger's own /metrics.
	MetricsURL string
	// Addr is the host:port of MetricsURL.
	Addr string
}

// StartFlagger runs bin/flagger (built by `make tools` from tools/flagger)
// with the cluster's admin kubeconfig and waits until it serves metrics and
// has synced its informers. The API server must report a semantic version
// (Flagger refuses to start otherwise): the Makefile links the test binaries
// with -X k8s.io/component-base/version.gitVersion=v1.37.2.
func (c *Cluster) StartFlagger(t testing.TB, o FlaggerOptions) *Flagger {
	t.Helper()
	if v := c.ServerVersion(t); !strings.HasPrefix(v, "v1.") {
		t.Fatalf("harness: the API server reports version %q; Flagger needs a semantic version. "+
			"Run the tests through the Makefile: it links them with -ldflags '$(KUBE_LDFLAGS)', "+
			"which set k8s.io/component-base/version.gitVersion", v)
	}
	addr := o.Addr
	if addr == "" {
		addr = FreeAddr(t)
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	args := []string{
		"-kubeconfig", c.Kubeconfig,
		"-port", port,
		"-log-level", "info",
		"-zap-encoding", "console",
		// Flagger syncs its canary list at this interval; each canary's
		// analysis still runs every spec.analysis.interval (at least 10 s).
		"-control-loop-interval", "1s",
		// No Prometheus: analysis is by webhooks only. A closed loopback port
		// fails fast instead of resolving the default http://prometheus:9090.
		"-metrics-server", "http://127.0.0.1:1",
		"-mesh-provider", o.MeshProvider,
	}
	if o.EventWebhook != "" {
		args = append(args, "-event-webhook", o.EventWebhook)
	}
	if o.SlackURL != "" {
		args = append(args, "-slack-url", o.SlackURL, "-slack-channel", "canaries")
	}
	p := StartProcess(t, testutil.Tool(t, "flagger"), args...)
	f := &Flagger{Process: p, MetricsURL: "http://" + addr + "/metrics", Addr: addr}
	Eventually(t, 60*time.Second, func() string {
		if p.Exited() {
			t.Fatalf("flagger exited:\n%s", p.Output())
		}
		if s, _ := Get(f.MetricsURL); s != http.StatusOK {
			return "flagger does not serve /metrics yet"
		}
		if !strings.Contains(p.Output(), "Started operator workers") {
			return "flagger has not started its workers"
		}
		return ""
	})
	return f
}

// ServerVersion is the gitVersion the API server reports on /version.
func (c *Cluster) ServerVersion(t testing.TB) string {
	t.Helper()
	v, err := c.Kube.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("harness: /version: %v", err)
	}
	return v.GitVersion
}
