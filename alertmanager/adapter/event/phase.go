package event

// Phases are the values of a Canary's status.phase, case-sensitive and with
// Flagger's British spelling of Finalising. The empty phase exists in Flagger
// too but is never a useful event, so the adapter does not emit it.
var Phases = map[string]bool{
	"Initializing":     true,
	"Initialized":      true,
	"Waiting":          true,
	"Progressing":      true,
	"WaitingPromotion": true,
	"Promoting":        true,
	"Finalising":       true,
	"Succeeded":        true,
	"Failed":           true,
	"Terminating":      true,
	"Terminated":       true,
}

// DefaultPhases maps the alerts this project's mixin ships (and Flagger's
// documented canary_rollback) to the phase the alert announces.
func DefaultPhases() map[string]string {
	return map[string]string{
		"FlaggerCanaryInitialized":      "Initialized",
		"FlaggerCanaryNewRevision":      "Progressing",
		"FlaggerCanaryPromoted":         "Succeeded",
		"FlaggerCanaryFailed":           "Failed",
		"FlaggerCanaryWaitingPromotion": "WaitingPromotion",
		"FlaggerCanaryRolledBack":       "Failed",
		"canary_rollback":               "Failed",
	}
}

// DefaultLifecycleAlerts are alerts that announce a step of a normal rollout
// rather than a fault, so they are Normal events whether firing or resolved,
// the way Flagger reports those steps.
func DefaultLifecycleAlerts() []string {
	return []string{
		"FlaggerCanaryInitialized",
		"FlaggerCanaryNewRevision",
		"FlaggerCanaryPromoted",
		"FlaggerCanaryWaitingPromotion",
	}
}
