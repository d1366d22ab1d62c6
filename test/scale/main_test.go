// Package scale measures the exporter at 1k, 5k and 10k canaries on the
// in-process kube-apiserver, against baselines measured in the same run
// (`make bench-scale`; results in BENCHMARKS.md).
package scale

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
