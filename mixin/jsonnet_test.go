package mixin_test

import (
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// `make lint` runs the same two commands.
func TestJsonnetFormatted(t *testing.T) {
	args := append([]string{"--test"}, jsonnetSources(t)...)
	run(t, testutil.RepoRoot(t), nil, testutil.Tool(t, "jsonnetfmt"), args...)
}

func TestJsonnetLint(t *testing.T) {
	run(t, testutil.RepoRoot(t), nil, testutil.Tool(t, "jsonnet-lint"), jsonnetSources(t)...)
}
