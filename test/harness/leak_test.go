package harness_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// TestTeardownLeaksNothing starts and stops a cluster twice. The first run
// starts the process-wide singletons every API server shares (klog's flush
// daemon, metric registries); after the second, the goroutine count must come
// back to where it was between the two, and no temp dir may be left behind.
func TestTeardownLeaksNothing(t *testing.T) {
	// A private temp dir: other test packages run their API servers at the
	// same time (go test ./... runs packages in parallel), and theirs must
	// not count as ours.
	t.Setenv("TMPDIR", t.TempDir())
	run := func(name string) {
		t.Run(name, func(t *testing.T) {
			c := harness.Start(t)
			c.InstallCRDs(t, harness.CanaryCRD())
			c.StopAPIServer(t)
			c.StartAPIServer(t)
		})
	}
	run("warm-up")
	before := runtime.NumGoroutine()
	dirsBefore := apiserverTempDirs(t)
	run("measured")

	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines leaked by one cluster:\n%s", runtime.NumGoroutine()-before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if after := apiserverTempDirs(t); after > dirsBefore {
		t.Errorf("%d kube-apiserver temp dirs left behind", after-dirsBefore)
	}
}

func apiserverTempDirs(t *testing.T) int {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "kubernetes-kube-apiserver") || strings.HasPrefix(filepath.Base(e.Name()), "insecure_test_key") {
			n++
		}
	}
	return n
}
