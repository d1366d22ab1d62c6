package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// TestImportGraph keeps Alertmanager's config and notify packages (hundreds
// of packages, most of the binary's size) out of the adapter: it decodes the
// webhook into its own types. Only tests may import them.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command(goTool(t), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("suspiciously few dependencies: %v", deps)
	}
	for _, p := range deps {
		for _, banned := range []string{"github.com/prometheus/alertmanager/config", "github.com/prometheus/alertmanager/notify", "k8s.io/client-go"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("the binary imports %s", p)
			}
		}
	}
}

// TestBinary runs the real binary: it serves, forwards a notification,
// refuses an invalid config on SIGHUP, and exits cleanly on SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "flagger-event-adapter")
	if out, err := exec.Command(goTool(t), "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	got := make(chan string, 10)
	consumer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer consumer.Close()
	cfg := filepath.Join(dir, "adapter.yml")
	write(t, cfg, "targets: [{name: consumer, url: '"+consumer.URL+"/s3cret'}]")
	addr := testutil.FreeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=debug")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	waitFor(t, func() bool { return get(base+"/-/ready") != "" })

	body, err := os.ReadFile("../../alertmanager/adapter/testdata/webhook/webhook-v0.31-1.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/webhook", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", resp, err)
	}
	resp.Body.Close()
	if ev := <-got; !strings.Contains(ev, `"name":"frontend","namespace":"prod","phase":"Failed"`) {
		t.Errorf("consumer got %s", ev)
	}
	metrics := get(base + "/metrics")
	for _, m := range []string{"flagger_event_adapter_build_info{", "flagger_event_adapter_events_sent_total{target=\"consumer\"} 1", "flagger_event_adapter_config_last_reload_successful 1"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	write(t, cfg, "targets: [{name: consumer, url: 'ftp://s3cret'}]")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return strings.Contains(get(base+"/metrics"), "flagger_event_adapter_config_last_reload_successful 0")
	})
	if get(base+"/-/ready") == "" {
		t.Error("a refused reload must leave the adapter ready")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("logs leak the target URL:\n%s", logs.String())
	}
}

// goTool is the go command; go test puts its own GOROOT/bin first in PATH.
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed to inspect the import graph")
	}
	return p
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func write(t *testing.T, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
