package kube

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	itest "github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// The fixes logged to operators name files of this repository; each must
// exist, or the advice sends them looking for nothing.
func TestFixesNameExistingFiles(t *testing.T) {
	root := itest.RepoRoot(t)
	path := regexp.MustCompile(`deploy/[\w./-]*\w`)
	n := 0
	for _, p := range []watchProblem{problemCRDMissing, problemForbidden, problemUnauthorized, problemExpired, problemClosed, problemOther} {
		for _, rel := range path.FindAllString(p.fix, -1) {
			n++
			if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
				t.Errorf("the %s fix names %s: %v", p.reason, rel, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no fix names a deploy/ file: the pattern no longer matches the advice")
	}
}
