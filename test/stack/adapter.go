package stack

import (
	"slices"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// Adapter is one flagger-event-adapter replica of a stack. A test may kill
// it and start it again on the same address, as a pod restart behind a
// Service would.
type Adapter struct {
	URL string
	*harness.Process
	bin  string
	args []string
}

func (s *Stack) runAdapter(t testing.TB, a *Adapter) {
	t.Helper()
	a.Process = harness.StartProcess(t, a.bin, a.args...)
	s.procs = append(s.procs, a.Process)
	s.waitHTTP(t, "flagger-event-adapter", a.URL+"/-/ready")
}

// RestartAdapter starts a stopped or killed replica again with the same
// flags and waits until it is ready.
func (s *Stack) RestartAdapter(t testing.TB, a *Adapter) {
	t.Helper()
	a.Stop()
	s.procs = slices.DeleteFunc(s.procs, func(p *harness.Process) bool { return p == a.Process })
	s.runAdapter(t, a)
}
