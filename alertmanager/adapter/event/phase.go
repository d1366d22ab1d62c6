package event

// DefaultPhases maps the mixin's alerts that carry no phase label, and
// Flagger's documented canary_rollback, to the phase they announce. The
// mixin's lifecycle notices and per-canary problem alerts carry a phase
// label, which wins over this table (see Mapper.phase); it matters for alert
// rules that predate those labels and for canary_rollback, which has none.
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

// DefaultLifecycleLabel is the label, set to "true", that marks an alert as a
// lifecycle notice: a step of a normal rollout standing in for one of
// Flagger's own notifications, not a fault. The mixin sets it on its notices
// and the Alertmanager templates read the same label.
const DefaultLifecycleLabel = "lifecycle"
