// Package exporter_test runs the flagger-exporter binary against a real
// in-process kube-apiserver.
package exporter_test

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
