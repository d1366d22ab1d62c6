// Package manifests_test applies the repository's rendered and deployable
// manifests (mixin/manifests, deploy/adapter, a consumer's own render of the
// mixin) to a real in-process kube-apiserver with prometheus-operator's CRDs,
// with `kubectl apply --dry-run=server`: the API server validates every
// object against its built-in or CRD schema, with strict field validation,
// and persists nothing.
package manifests_test

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
