package stack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// TestKPSAlertmanagerConfig: alertmanager.yml merged into
// kube-prometheus-stack's defaults loads, keeps kps's Watchdog route and
// routes Flagger's alerts as alertmanager.yml alone does.
func TestKPSAlertmanagerConfig(t *testing.T) {
	root := testutil.RepoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "alertmanager", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(file, []byte(kpsAlertmanagerConfig(t, string(raw))), 0o600); err != nil {
		t.Fatal(err)
	}
	amtool := testutil.Tool(t, "amtool")
	if out, err := exec.Command(amtool, "check-config", file).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for labels, want := range map[string]string{
		"alertname=Watchdog severity=none":                                           "null",
		"alertname=InfoInhibitor severity=none namespace=team-a":                     "null",
		"alertname=KubePodCrashLooping severity=warning namespace=team-a":            "null",
		"alertname=FlaggerCanaryNewRevision lifecycle=true severity=notice canary=x": "flagger-event-adapter,flagger-chat-notices",
		"alertname=FlaggerCanaryFailedChecksRising severity=info canary=x":           "flagger-event-adapter,flagger-chat",
		"alertname=FlaggerCanaryProgressDeadlineExceeded severity=critical canary=x": "flagger-event-adapter,flagger-pager,flagger-chat",
	} {
		out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + file}, strings.Fields(labels)...)...).Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != want {
			t.Errorf("%s routes to %q (%v), want %q", labels, got, err, want)
		}
	}
}
