// Package e2e runs the whole pipeline, from Canary status writes to Slack,
// Teams and Flagger event-webhook calls, with real binaries (see package
// stack) and the Flagger simulator (package sim).
package e2e

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
