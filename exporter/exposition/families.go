// Package exposition writes canary facts in the Prometheus text format. It
// knows nothing of Kubernetes: it takes decoded facts and writes bytes,
// directly into a reusable buffer, because building client_golang metric
// objects for hundreds of thousands of series per scrape costs ~10x more.
package exposition

// Family is one metric family the exporter writes, in the order written.
type Family struct {
	Name   string
	Type   string // gauge or counter
	Labels string // the labels of its series, for documentation
	Help   string
}

// The label set every per-canary series carries.
const canaryLabels = "namespace, canary"

// Families are the canary metric families, in exposition order. The README's
// metric table is checked against this list and against a real scrape.
var Families = []Family{
	{"flagger_canary_status", "gauge", "name, namespace, canary", "Flagger-compatible canary status: 0 Progressing, 2 Failed, 1 any other phase. name is spec.targetRef.name, canary the Canary's own name."},
	{"flagger_canary_weight", "gauge", "workload, namespace, canary", "Flagger-compatible traffic weight: workload <target>-primary is 100 minus status.canaryWeight, workload <target> is status.canaryWeight (clamped to 0..100)."},
	{"flagger_canary_total", "gauge", "namespace", "Number of Canary objects per namespace."},
	{"flagger_canary_info", "gauge", canaryLabels + ", target_kind, target_name, provider, strategy", "Canary target, provider and deployment strategy (canary, blue-green, ab-testing) as Flagger decides it; always 1."},
	{"flagger_canary_status_phase", "gauge", canaryLabels + ", phase", "Canary phase as a state set over Flagger's 11 phases and Unknown (empty or unrecognised phase): 1 for the current phase, 0 for the others."},
	{"flagger_canary_status_promoted", "gauge", canaryLabels + ", status", "The Promoted condition as a state set over True, False and Unknown; absent when the Canary has no such condition."},
	{"flagger_canary_status_failed_checks", "gauge", canaryLabels, "Failed checks of the current analysis (status.failedChecks)."},
	{"flagger_canary_status_iterations", "gauge", canaryLabels, "Iterations of the current analysis (status.iterations)."},
	{"flagger_canary_status_canary_weight", "gauge", canaryLabels, "Traffic weight routed to the canary (status.canaryWeight)."},
	{"flagger_canary_status_last_transition_timestamp_seconds", "gauge", canaryLabels, "Unix time of the last phase transition (status.lastTransitionTime)."},
	{"flagger_canary_analysis_threshold", "gauge", canaryLabels, "Failed checks that trigger a rollback (spec.analysis.threshold)."},
	{"flagger_canary_analysis_iterations", "gauge", canaryLabels, "Iterations of a blue/green or A/B analysis (spec.analysis.iterations)."},
	{"flagger_canary_analysis_max_weight", "gauge", canaryLabels, "Maximum canary weight (spec.analysis.maxWeight)."},
	{"flagger_canary_analysis_step_weight", "gauge", canaryLabels, "Canary weight increment per step (spec.analysis.stepWeight)."},
	{"flagger_canary_analysis_interval_seconds", "gauge", canaryLabels, "Analysis interval (spec.analysis.interval) in seconds."},
	{"flagger_canary_progress_deadline_seconds", "gauge", canaryLabels, "Progress deadline (spec.progressDeadlineSeconds, Flagger's default 600 when unset)."},
	{"flagger_canary_suspended", "gauge", canaryLabels, "1 when spec.suspend is true."},
	{"flagger_canary_skip_analysis", "gauge", canaryLabels, "1 when spec.skipAnalysis is true."},
	{"flagger_canary_created_timestamp_seconds", "gauge", canaryLabels, "Unix time the Canary object was created."},
	{"flagger_canary_transitions_total", "counter", canaryLabels + ", phase", "Phase changes this exporter observed, by the phase entered. Starts at 0 for every phase when the exporter first sees a canary."},
}
