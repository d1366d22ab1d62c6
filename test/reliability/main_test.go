// Package reliability puts the pipeline under faults with real processes
// on loopback: Alertmanager as an HA pair, healthy and partitioned, the
// adapter killed in a burst, the event consumer down for minutes. The
// figures it logs are those of docs/reliability.md.
package reliability

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
