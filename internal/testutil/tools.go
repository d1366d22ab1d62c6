// Package testutil holds what the project's tests share: where the repository
// is and where the pinned tools that `make tools` builds live.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the top of the repository, found from this source file so that
// it is right whatever package directory a test runs in.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate the repository root")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Tool returns the path of a pinned tool (promtool, prometheus, alertmanager,
// amtool, jsonnet, jsonnetfmt, jsonnet-lint, jb, kubectl) built by
// `make tools` into bin/. A missing tool fails the test rather than skipping
// it: a skipped check is a check that silently stopped running.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found in bin/ or PATH: run `make tools` first (the Makefile's test targets do)", name)
	return ""
}
