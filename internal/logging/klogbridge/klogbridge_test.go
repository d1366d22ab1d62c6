package klogbridge

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"k8s.io/klog/v2"

	"github.com/flagger-monitoring/flagger-monitoring/internal/logging"
)

func TestKlogGoesThroughGoKit(t *testing.T) {
	var buf bytes.Buffer
	l, err := logging.New(&buf, logging.Config{Level: "info", Format: "logfmt"})
	if err != nil {
		t.Fatal(err)
	}
	Install(l)
	defer klog.ClearLogger()
	klog.InfoS("chatty", "k", "v")
	klog.ErrorS(errors.New("boom"), "failed to list", "resource", "canaries")
	klog.Flush()
	out := buf.String()
	if strings.Contains(out, "chatty") {
		t.Errorf("klog info must be debug, filtered at info: %q", out)
	}
	if !strings.Contains(out, `level=error`) || !strings.Contains(out, `err=boom`) || !strings.Contains(out, "component=client-go") || !strings.Contains(out, "resource=canaries") {
		t.Errorf("klog error not bridged: %q", out)
	}
}
