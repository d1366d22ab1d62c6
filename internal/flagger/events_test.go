package flagger

import "testing"

// The messages are Flagger v1.44.0's templates (pkg/controller/*.go) filled
// in as it fills them.
func TestIsLifecycleMessage(t *testing.T) {
	for msg, want := range map[string]bool{
		"Initialization done! podinfo.test":                                         true,
		"New revision detected! Scaling up podinfo.test":                            true,
		"Promotion completed! Canary analysis was skipped for podinfo.test":         true,
		"Promotion completed! Scaling down podinfo.test":                            true,
		"Canary failed! Scaling down podinfo.test":                                  true,
		"Halt podinfo.test advancement waiting for approval gate":                   true,
		"Halt podinfo.test advancement waiting for approval":                        true,
		"Halt podinfo.test advancement waiting for promotion approval gate":         true,
		"Halt podinfo.test advancement waiting for traffic increase approval gate":  false,
		"Halt podinfo.test advancement waiting for approvals gate":                  false,
		"Halt podinfo.test advancement success rate 90.00% < 99%":                   false,
		"Advance podinfo.test canary weight 20":                                     false,
		"New revision detected! Restarting analysis for podinfo.test":               false,
		"Starting canary analysis for podinfo.test":                                 false,
		"Pre-rollout check acceptance-test passed":                                  false,
		"Rolling back podinfo.test failed checks threshold reached 2":               false,
		"Rolling back podinfo.test manual webhook invoked":                          false,
		"Promotion failed, primary not ready: deployment podinfo-primary not ready": false,
		"(combined from similar events): Initialization done! podinfo.test":         false,
		"":                                       false,
		"Halt ":                                  false,
		"Halt  advancement waiting for approval": false,
	} {
		if got := IsLifecycleMessage(msg); got != want {
			t.Errorf("IsLifecycleMessage(%q) = %v, want %v", msg, got, want)
		}
	}
}
