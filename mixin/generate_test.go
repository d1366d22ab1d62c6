package mixin_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// The committed rules, dashboards and manifests are what the mixin renders
// now: rendered with the same script `make generate` runs, into a temporary
// directory, they match byte for byte and no stale file is left over.
func TestGeneratedFilesInSync(t *testing.T) {
	root := testutil.RepoRoot(t)
	out := t.TempDir()
	env := []string{
		"JSONNET=" + testutil.Tool(t, "jsonnet"),
		"JSONNETFMT=" + testutil.Tool(t, "jsonnetfmt"),
	}
	run(t, root, env, "bash", filepath.Join(root, "hack", "generate-mixin.sh"), out)

	for _, dir := range []string{rulesDir, dashboardsDir, manifestsDir, "charts/flagger-monitoring/files/mixin"} {
		want := listFiles(t, filepath.Join(out, dir))
		got := listFiles(t, filepath.Join(root, dir))
		if len(want) == 0 {
			t.Fatalf("the mixin rendered nothing into %s", dir)
		}
		for _, f := range want {
			rendered, err := os.ReadFile(filepath.Join(out, dir, f))
			if err != nil {
				t.Fatal(err)
			}
			committed, err := os.ReadFile(filepath.Join(root, dir, f))
			switch {
			case os.IsNotExist(err):
				t.Errorf("%s/%s is missing: run `make generate`", dir, f)
			case err != nil:
				t.Fatal(err)
			case !bytes.Equal(rendered, committed):
				t.Errorf("%s/%s is out of date (edited by hand or mixin/ changed): run `make generate`", dir, f)
			}
		}
		wanted := map[string]bool{}
		for _, f := range want {
			wanted[f] = true
		}
		for _, f := range got {
			if !wanted[f] {
				t.Errorf("%s/%s is not rendered by the mixin any more: run `make generate`", dir, f)
			}
		}
	}
}

// listFiles returns the files under dir, relative to it.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return fs.SkipDir
			}
			return err
		}
		if !e.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
