package harness

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// Kubectl runs the pinned kubectl (bin/kubectl, built by `make tools` from
// the same k8s.io/kubernetes release as the API server) against the cluster
// with the given kubeconfig ("" for admin) and returns stdout, stderr and the
// exit error.
func (c *Cluster) Kubectl(t testing.TB, kubeconfig string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	if kubeconfig == "" {
		kubeconfig = c.Kubeconfig
	}
	cmd := exec.Command(testutil.Tool(t, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), errb.String(), err
}
