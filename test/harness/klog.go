package harness

import (
	"bytes"
	"flag"
	"strings"
	"sync"
	"testing"

	"k8s.io/klog/v2"
)

// The API server logs ~40 lines per start straight to stderr through klog.
// They are noise while tests pass and evidence when one fails, so they go to
// a buffer that is printed only for a failed test.

var klogOnce sync.Once

type klogCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (k *klogCapture) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	// Keep the tail: a failing test wants the last lines, not unbounded memory.
	if k.buf.Len() > 4<<20 {
		k.buf.Next(k.buf.Len() / 2)
	}
	return k.buf.Write(p)
}

func captureKlog(t testing.TB) *klogCapture {
	klogOnce.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		_ = fs.Set("logtostderr", "false")
		_ = fs.Set("alsologtostderr", "false")
		_ = fs.Set("stderrthreshold", "FATAL")
	})
	k := &klogCapture{}
	klog.SetOutput(k)
	t.Cleanup(func() {
		if t.Failed() {
			k.mu.Lock()
			lines := strings.Split(k.buf.String(), "\n")
			k.mu.Unlock()
			if len(lines) > 200 {
				lines = lines[len(lines)-200:]
			}
			t.Logf("kube-apiserver log (last %d lines):\n%s", len(lines), strings.Join(lines, "\n"))
		}
	})
	return k
}
