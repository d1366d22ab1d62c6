package harness

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

var (
	buildDir  string
	buildMu   sync.Mutex
	buildDone = map[string]string{}
)

// Main runs a test binary's tests and removes what the harness built.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Build compiles one of the repository's commands (e.g. "flagger-exporter")
// once per test binary, so tests always run the code under test rather than a
// stale bin/ copy.
func Build(t testing.TB, command string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildDone[command]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "flagger-monitoring-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, command)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+command)
	cmd.Dir = testutil.RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", command, err, b)
	}
	buildDone[command] = out
	return out
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string { return testutil.FreeAddr(t) }

// Process is a child process whose output is kept for a failing test.
type Process struct {
	Name string
	cmd  *exec.Cmd
	out  *testutil.SyncBuffer
	done chan struct{}
}

// StartProcess starts bin with args; it is stopped (SIGTERM, then SIGKILL
// after 10 s) when the test ends, and its output logged if the test failed.
func StartProcess(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: filepath.Base(bin), cmd: exec.Command(bin, args...), out: &testutil.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("output of %s %v:\n%s", p.Name, args, p.Output())
		}
	})
	return p
}

// Output is everything the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// Stop terminates the process gracefully and waits for it.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill ends the process with SIGKILL, as the OOM killer or a node failure
// would: no shutdown code runs. It waits until the process is gone.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Get fetches url and returns status and body; transport errors give 0.
func Get(url string) (int, []byte) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Eventually polls cond every 100 ms until it returns "" or timeout passes,
// then fails with the last reason.
func Eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		reason := cond()
		if reason == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, reason)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Scrape fetches and parses a /metrics page.
func Scrape(t testing.TB, url string) (map[string]*dto.MetricFamily, error) {
	status, body := Get(url)
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, status, body)
	}
	return testutil.ParseText(t, body), nil
}

// Pid is the process id, for reading /proc.
func (p *Process) Pid() int { return p.cmd.Process.Pid }
