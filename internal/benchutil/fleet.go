package benchutil

import (
	"fmt"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// Fleet is n canaries' facts spread over 200 namespaces, every phase
// represented, with the spec and status values a real fleet has, for the
// exposition and scrape benchmarks. progressing[i] is canary i's count of
// Progressing transitions.
func Fleet(n int) (facts []canary.Facts, progressing []uint64) {
	for i := range n {
		name := fmt.Sprintf("service-%05d", i)
		facts = append(facts, canary.Facts{
			Namespace: fmt.Sprintf("team-%03d", i%200), Name: name, TargetKind: "Deployment", TargetName: name, Provider: "istio",
			Strategy: canary.StrategyCanary, Phase: flagger.Phase(i % int(flagger.NumPhases)), Promoted: canary.ConditionUnknown,
			FailedChecks: 3, CanaryWeight: 30, LastTransition: 1700000000.5, Created: 1690000000,
			Threshold: 5, AnalysisIterations: canary.Absent, MaxWeight: 50, StepWeight: 10,
			IntervalSeconds: 15, ProgressDeadlineSeconds: 600, PromotionWeight: 50,
			Checksum: "5f7b8c9d6",
			Webhooks: [canary.NumHookTypes]uint16{0, 0, 0, 0, 0, 0, 1, 2},
		})
		progressing = append(progressing, uint64(i%7))
	}
	return facts, progressing
}
