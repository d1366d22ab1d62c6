// Package canary turns a Flagger Canary object into the facts the exporter
// publishes. It is pure — object in, facts out — and knows nothing of
// Prometheus or of how objects arrive, so it can be table-tested and fuzzed on
// its own. Canary objects are user input: decoding never panics, exports what
// it can and reports what it could not read.
package canary

import (
	"math"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// Condition is the state of the Promoted condition.
type Condition uint8

// Promoted condition states; ConditionAbsent means the object has none.
const (
	ConditionAbsent Condition = iota
	ConditionTrue
	ConditionFalse
	ConditionUnknown
)

// ConditionStatuses are the label values of the Promoted state set, indexed by
// Condition-1.
var ConditionStatuses = [...]string{"True", "False", "Unknown"}

// Strategies as Flagger decides them (see Strategy).
const (
	StrategyCanary    = "canary"
	StrategyBlueGreen = "blue-green"
	StrategyABTesting = "ab-testing"
)

// Flagger's defaults (pkg/apis/flagger/v1beta1/canary.go and the controller).
const (
	// DefaultProgressDeadlineSeconds: GetProgressDeadlineSeconds, for an
	// unset spec.progressDeadlineSeconds.
	DefaultProgressDeadlineSeconds = 600
	// DefaultThreshold: GetAnalysisThreshold, for a threshold <= 0 or unset.
	DefaultThreshold = 1
	// DefaultIntervalSeconds and MinIntervalSeconds: GetAnalysisInterval,
	// for an unset or unparseable interval and the floor of any other.
	DefaultIntervalSeconds = 60
	MinIntervalSeconds     = 10
	// TotalWeight is the controller's totalWeight: always 100.
	TotalWeight = 100
	// KubernetesIterations is what advanceCanary sets analysis.iterations to
	// when the kubernetes provider runs a canary with iterations < 1.
	KubernetesIterations = 10
	// DefaultMeshProvider is the default of Flagger's -mesh-provider flag.
	DefaultMeshProvider = "istio"
	// KubernetesProvider is the provider without a mesh (router.NopRouter):
	// blue/green only, and no traffic to shift.
	KubernetesProvider = "kubernetes"
)

// Facts are what the exporter knows about one Canary object. Settings Flagger defaults
// hold Flagger's default when the object does not set them; other numbers the
// object does not set are NaN (see Absent) and have no series; status
// counters that Flagger resets to 0 read as 0 when missing.
type Facts struct {
	Namespace string
	Name      string

	TargetKind string
	TargetName string
	Provider   string // spec.provider, else the mesh provider Flagger runs with
	Strategy   string // see strategy(); blue-green for the kubernetes provider

	Phase    flagger.Phase
	Promoted Condition

	FailedChecks   float64
	CanaryWeight   float64 // status.canaryWeight, as written
	Iterations     float64 // status.iterations
	LastTransition float64 // Unix seconds; NaN when absent or unreadable
	Created        float64 // Unix seconds of metadata.creationTimestamp

	// The analysis settings as Flagger uses them, its defaults applied (see
	// Decode). spec.canaryAnalysis stands in for an absent spec.analysis.
	Threshold               float64 // GetAnalysisThreshold
	AnalysisIterations      float64 // spec.analysis.iterations (10 forced by the kubernetes provider); Absent when unset
	MaxWeight               float64 // the controller's maxWeight
	StepWeight              float64 // the controller's nextStepWeight from 0; Absent when neither stepWeight nor stepWeights is set
	IntervalSeconds         float64 // GetAnalysisInterval
	ProgressDeadlineSeconds float64 // GetProgressDeadlineSeconds

	// PromotionWeight is the canary weight a progressive canary's routes
	// stop at: the first step at or above MaxWeight (see promotionWeight).
	// They stay there through WaitingPromotion and into Promoting, while
	// Flagger resets status.canaryWeight.
	PromotionWeight float64

	Suspended    bool
	SkipAnalysis bool

	// Checksum is what Flagger's event webhook sends as checksum for this
	// status (see Checksum): the same for every event of one revision.
	Checksum string

	// Webhooks counts spec.analysis.webhooks by type, indexed like HookTypes.
	Webhooks [NumHookTypes]uint16
}

// Absent is the value of a number the object does not set.
var Absent = math.NaN()

// IsAbsent reports whether v is Absent.
func IsAbsent(v float64) bool { return v != v }

// FlaggerStatus is the value of Flagger's own flagger_canary_status: 0 while
// Progressing, 2 when Failed, 1 for every other phase (Waiting and the empty
// phase included).
func (c *Facts) FlaggerStatus() float64 {
	switch c.Phase {
	case flagger.PhaseProgressing:
		return 0
	case flagger.PhaseFailed:
		return 2
	}
	return 1
}
