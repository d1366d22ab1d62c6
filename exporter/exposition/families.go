// Package exposition writes canary facts in the Prometheus text format. It
// knows nothing of Kubernetes: it takes decoded facts and writes bytes,
// directly into a reusable buffer, because building client_golang metric
// objects for hundreds of thousands of series per scrape costs ~10x more.
package exposition

import "github.com/flagger-monitoring/flagger-monitoring/exporter/canary"

// Family is one metric family the exporter writes, in the order written:
// what the exposition and the documentation say about it, and the function
// that writes its series.
type Family struct {
	Name   string
	Type   string // gauge or counter
	Labels string // the labels of its series, for documentation
	Help   string
	write  func(*writer, []*Canary)
}

// The label set every per-canary series carries.
const canaryLabels = "namespace, canary"

// Families are the canary metric families, in exposition order. The metric
// table in docs/exporter.md is checked against this list and against a real
// scrape.
var Families = []Family{
	{"flagger_canary_status", "gauge", "name, namespace, canary", "Flagger-compatible canary status: 0 Progressing, 2 Failed, 1 any other phase. name is spec.targetRef.name, canary the Canary's own name.", writeStatus},
	{"flagger_canary_weight", "gauge", "workload, namespace, canary", "Flagger-compatible traffic weight, the routes as Flagger's router reports them: workload <target> is the canary's share (0..100), derived from phase, strategy, provider and status; workload <target>-primary is 100 minus it.", writeWeight},
	{"flagger_canary_total", "gauge", "namespace", "Number of Canary objects per namespace.", writeTotal},
	{"flagger_canary_info", "gauge", canaryLabels + ", target_kind, target_name, provider, strategy", "Canary target, provider (spec.provider, else Flagger's global mesh provider) and deployment strategy (canary, blue-green, ab-testing) as Flagger runs it: blue-green for the kubernetes provider; always 1.", writeInfo},
	{"flagger_canary_status_phase", "gauge", canaryLabels + ", phase", "Canary phase as a state set over Flagger's 11 phases and Unknown (empty or unrecognised phase): 1 for the current phase, 0 for the others.", writePhase},
	{"flagger_canary_status_promoted", "gauge", canaryLabels + ", status", "The Promoted condition as a state set over True, False and Unknown; absent when the Canary has no such condition.", writePromoted},
	{"flagger_canary_status_failed_checks", "gauge", canaryLabels, "Failed checks of the current analysis (status.failedChecks).", gauge(func(f *canary.Facts) float64 { return f.FailedChecks })},
	{"flagger_canary_status_iterations", "gauge", canaryLabels, "Iterations of the current analysis (status.iterations).", gauge(func(f *canary.Facts) float64 { return f.Iterations })},
	{"flagger_canary_status_canary_weight", "gauge", canaryLabels, "status.canaryWeight as Flagger writes it: a progressive canary's step, zeroed in WaitingPromotion, left 0 by blue/green and A/B testing; the traffic is flagger_canary_weight.", gauge(func(f *canary.Facts) float64 { return f.CanaryWeight })},
	{"flagger_canary_status_last_transition_timestamp_seconds", "gauge", canaryLabels, "Unix time of Flagger's last status write (status.lastTransitionTime): Flagger stamps it on every status update (phase, weight step, iteration, failed check, status sync), not only on phase changes.", gauge(func(f *canary.Facts) float64 { return f.LastTransition })},
	{"flagger_canary_analysis_threshold", "gauge", canaryLabels, "Failed checks that trigger a rollback (spec.analysis.threshold; 1 when unset or <= 0, as Flagger reads it).", gauge(func(f *canary.Facts) float64 { return f.Threshold })},
	{"flagger_canary_analysis_iterations", "gauge", canaryLabels, "Iterations of a blue/green or A/B analysis (spec.analysis.iterations; 10 when the kubernetes provider forces blue/green on fewer than 1); absent when unset.", gauge(func(f *canary.Facts) float64 { return f.AnalysisIterations })},
	{"flagger_canary_analysis_max_weight", "gauge", canaryLabels, "Maximum canary weight as Flagger computes it: the last of spec.analysis.stepWeights capped at 100, else maxWeight when > 0, else 100.", gauge(func(f *canary.Facts) float64 { return f.MaxWeight })},
	{"flagger_canary_analysis_step_weight", "gauge", canaryLabels, "Canary weight of the first step: spec.analysis.stepWeight when > 0 or without stepWeights, else the first of stepWeights (capped at 100); absent when neither is set.", gauge(func(f *canary.Facts) float64 { return f.StepWeight })},
	{"flagger_canary_analysis_interval_seconds", "gauge", canaryLabels, "Analysis interval in seconds as Flagger uses it (spec.analysis.interval; 60 when unset or unparseable, at least 10).", gauge(func(f *canary.Facts) float64 { return f.IntervalSeconds })},
	{"flagger_canary_progress_deadline_seconds", "gauge", canaryLabels, "Progress deadline (spec.progressDeadlineSeconds, Flagger's default 600 when unset).", gauge(func(f *canary.Facts) float64 { return f.ProgressDeadlineSeconds })},
	{"flagger_canary_suspended", "gauge", canaryLabels, "1 when spec.suspend is true.", gauge(func(f *canary.Facts) float64 { return boolValue(f.Suspended) })},
	{"flagger_canary_skip_analysis", "gauge", canaryLabels, "1 when spec.skipAnalysis is true.", gauge(func(f *canary.Facts) float64 { return boolValue(f.SkipAnalysis) })},
	{"flagger_canary_created_timestamp_seconds", "gauge", canaryLabels, "Unix time the Canary object was created.", gauge(func(f *canary.Facts) float64 { return f.Created })},
	{"flagger_canary_transitions_total", "counter", canaryLabels + ", phase", "Phase changes this exporter observed, by the phase entered. Starts at 0 for every phase when the exporter first sees a canary.", writeTransitions},
	{"flagger_canary_revision_info", "gauge", canaryLabels + ", checksum", "The checksum Flagger's event webhook sends for the canary's current status (an FNV hash of status.trackedConfigs and status.lastAppliedSpec): one value per revision, so alerts and the event adapter can stamp events exactly as Flagger does; always 1.", writeRevision},
	{"flagger_canary_analysis_webhooks", "gauge", canaryLabels + ", type", "Webhooks of each type in spec.analysis.webhooks (a webhook without a type is a rollout hook); only the types present have a series. Alerts read confirm-traffic-increase: a canary waiting at that gate writes no status.", writeWebhooks},
}
