// Package canary turns a Flagger Canary object into the facts the exporter
// publishes. It is pure — object in, facts out — and knows nothing of
// Prometheus or of how objects arrive, so it can be table-tested and fuzzed on
// its own. Canary objects are user input: decoding never panics, exports what
// it can and reports what it could not read.
package canary

import "math"

// Phase is a Canary's status.phase as an index into Phases. Unknown stands for
// the empty phase (no status yet) and for any value Flagger does not define.
type Phase uint8

// Phases are Flagger's phases in the order Flagger declares them, followed by
// Unknown. The strings are case-sensitive, as Flagger writes them.
var Phases = [...]string{
	"Initializing", "Initialized", "Waiting", "Progressing", "WaitingPromotion",
	"Promoting", "Finalising", "Succeeded", "Failed", "Terminating", "Terminated",
	"Unknown",
}

// The phases the exporter's logic treats specially.
const (
	PhaseWaiting          Phase = 2
	PhaseProgressing      Phase = 3
	PhaseWaitingPromotion Phase = 4
	PhasePromoting        Phase = 5
	PhaseFailed           Phase = 8
	PhaseUnknown          Phase = Phase(len(Phases) - 1)
	// NumPhases counts Phases, Unknown included.
	NumPhases = len(Phases)
)

func (p Phase) String() string { return Phases[p] }

// ParsePhase maps a status.phase string to a Phase; "" and unrecognised values
// are Unknown (the second result is false for an unrecognised non-empty one).
func ParsePhase(s string) (Phase, bool) {
	for i, name := range Phases[:PhaseUnknown] {
		if s == name {
			return Phase(i), true
		}
	}
	return PhaseUnknown, s == ""
}

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

// Canary holds the facts about one Canary object. Settings Flagger defaults
// hold Flagger's default when the object does not set them; other numbers the
// object does not set are NaN (see Absent) and have no series; status
// counters that Flagger resets to 0 read as 0 when missing.
type Canary struct {
	Namespace string
	Name      string

	TargetKind string
	TargetName string
	Provider   string // spec.provider, else the mesh provider Flagger runs with
	Strategy   string // see strategy(); blue-green for the kubernetes provider

	Phase    Phase
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
func (c *Canary) FlaggerStatus() float64 {
	switch c.Phase {
	case PhaseProgressing:
		return 0
	case PhaseFailed:
		return 2
	}
	return 1
}
