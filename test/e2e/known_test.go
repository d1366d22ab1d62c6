package e2e

import "testing"

// Known issues: deviations from what a Flagger user expects that this test
// found in files it does not own, reported to the lead. While one is open
// the test logs each occurrence ("KNOWN ISSUE") instead of failing; fixing
// it means deleting its allowance here and where knownIssue is called.
// Everything else about the same messages is still checked.
const (
	// One step's alerts come from three rule groups (flagger-canary-lifecycle,
	// flagger-canary, flagger-canary-rollback) that Prometheus evaluates
	// at different offsets, so they reach Alertmanager up to one
	// evaluation interval apart (and the two rollback alerts, both `for:
	// 1m`, start and stop firing that far apart). A chat flush inside that
	// window lets canary_rollback out uninhibited, because
	// FlaggerCanaryRolledBack does not fire yet at the rollback or no longer
	// at the recovery. (Notices are messages of their own, so a step can no
	// longer be split over two messages.)
	issueGroupSkew = "rule-group-skew"
)

func knownIssue(t *testing.T, issue, format string, args ...any) {
	t.Helper()
	t.Logf("KNOWN ISSUE %s: "+format, append([]any{issue}, args...)...)
}
