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
	{"flagger_canary_weight", "gauge", "workload, namespace, canary", "Flagger-compatible traffic weight, the routes as Flagger's router reports them: workload <target> is the canary's share (0..100), derived from phase, strategy, provider and status; workload <target>-primary is 100 minus it."},
	{"flagger_canary_total", "gauge", "namespace", "Number of Canary objects per namespace."},
	{"flagger_canary_info", "gauge", canaryLabels + ", target_kind, target_name, provider, strategy", "Canary target, provider (spec.provider, else Flagger's global mesh provider) and deployment strategy (canary, blue-green, ab-testing) as Flagger runs it: blue-green for the kubernetes provider; always 1."},
	{"flagger_canary_status_phase", "gauge", canaryLabels + ", phase", "Canary phase as a state set over Flagger's 11 phases and Unknown (empty or unrecognised phase): 1 for the current phase, 0 for the others."},
	{"flagger_canary_status_promoted", "gauge", canaryLabels + ", status", "The Promoted condition as a state set over True, False and Unknown; absent when the Canary has no such condition."},
	{"flagger_canary_status_failed_checks", "gauge", canaryLabels, "Failed checks of the current analysis (status.failedChecks)."},
	{"flagger_canary_status_iterations", "gauge", canaryLabels, "Iterations of the current analysis (status.iterations)."},
	{"flagger_canary_status_canary_weight", "gauge", canaryLabels, "status.canaryWeight as Flagger writes it: a progressive canary's step, zeroed in WaitingPromotion, left 0 by blue/green and A/B testing; the traffic is flagger_canary_weight."},
	{"flagger_canary_status_last_transition_timestamp_seconds", "gauge", canaryLabels, "Unix time of Flagger's last status write (status.lastTransitionTime): Flagger stamps it on every status update (phase, weight step, iteration, failed check, status sync), not only on phase changes."},
	{"flagger_canary_analysis_threshold", "gauge", canaryLabels, "Failed checks that trigger a rollback (spec.analysis.threshold; 1 when unset or <= 0, as Flagger reads it)."},
	{"flagger_canary_analysis_iterations", "gauge", canaryLabels, "Iterations of a blue/green or A/B analysis (spec.analysis.iterations; 10 when the kubernetes provider forces blue/green on fewer than 1); absent when unset."},
	{"flagger_canary_analysis_max_weight", "gauge", canaryLabels, "Maximum canary weight as Flagger computes it: the last of spec.analysis.stepWeights capped at 100, else maxWeight when > 0, else 100."},
	{"flagger_canary_analysis_step_weight", "gauge", canaryLabels, "Canary weight of the first step: spec.analysis.stepWeight when > 0 or without stepWeights, else the first of stepWeights (capped at 100); absent when neither is set."},
	{"flagger_canary_analysis_interval_seconds", "gauge", canaryLabels, "Analysis interval in seconds as Flagger uses it (spec.analysis.interval; 60 when unset or unparseable, at least 10)."},
	{"flagger_canary_progress_deadline_seconds", "gauge", canaryLabels, "Progress deadline (spec.progressDeadlineSeconds, Flagger's default 600 when unset)."},
	{"flagger_canary_suspended", "gauge", canaryLabels, "1 when spec.suspend is true."},
	{"flagger_canary_skip_analysis", "gauge", canaryLabels, "1 when spec.skipAnalysis is true."},
	{"flagger_canary_created_timestamp_seconds", "gauge", canaryLabels, "Unix time the Canary object was created."},
	{"flagger_canary_transitions_total", "counter", canaryLabels + ", phase", "Phase changes this exporter observed, by the phase entered. Starts at 0 for every phase when the exporter first sees a canary."},
	{"flagger_canary_analysis_webhooks", "gauge", canaryLabels + ", type", "Webhooks of each type in spec.analysis.webhooks (a webhook without a type is a rollout hook); only the types present have a series. Alerts read confirm-traffic-increase: a canary waiting at that gate writes no status."},
}
