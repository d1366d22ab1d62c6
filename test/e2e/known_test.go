package e2e

import "testing"

// Known issues: deviations from what a Flagger user expects that this test
// found in files it does not own, reported to the lead. While one is open
// the test logs each occurrence ("KNOWN ISSUE") instead of failing; fixing
// it means deleting its allowance here and where knownIssue is called.
// Everything else about the same messages is still checked.
const (
	// The event adapter turns each resolved lifecycle alert into a second
	// event for a step that is over, with the step's phase and message
	// ("Initialized" after "Progressing", "Progressing" after
	// "Succeeded"), and each resolved rollback alert into a "Failed"
	// event while the canary is already progressing again. Flagger sends
	// one event per step. (alertmanager.yml sends resolved alerts to the
	// adapter; the adapter maps them by the alert's phase label.)
	issueResolvedEvents = "resolved-alerts-become-step-events"
	// "Canary failed! Scaling down" reaches the event consumer as Normal;
	// Flagger sends it as Warning. The adapter's lifecycle_severities
	// [info] makes every info alert Normal, and the mixin gives
	// FlaggerCanaryFailed severity info, although the adapter's own table
	// lists it as not a lifecycle alert.
	issueFailedIsNormal = "FlaggerCanaryFailed-event-is-Normal"
	// One step's alerts come from three rule groups (flagger-canary-lifecycle,
	// flagger-canary, flagger-canary-rollback) that Prometheus evaluates
	// at different offsets, so they reach Alertmanager up to one
	// evaluation interval apart (and the two rollback alerts, both `for:
	// 1m`, start and stop firing that far apart). A chat flush (or the
	// adapter's group_wait 0s) inside that window: (a) lets
	// canary_rollback out uninhibited, because FlaggerCanaryRolledBack
	// does not fire yet at the rollback or no longer at the recovery;
	// (b) splits a step over two messages, e.g. at the recovery "New
	// revision detected" with "Rolled back" still firing, then the same
	// step again with it resolved.
	issueGroupSkew = "rule-group-skew"
)

func knownIssue(t *testing.T, issue, format string, args ...any) {
	t.Helper()
	t.Logf("KNOWN ISSUE %s: "+format, append([]any{issue}, args...)...)
}
