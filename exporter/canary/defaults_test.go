package canary

import (
	"testing"
)

// analysisOf returns base() with spec.analysis replaced by a.
func analysisOf(a map[string]any) map[string]any {
	return set(base(), a, "spec", "analysis")
}

// TestDecodeFlaggerDefaults checks each exported analysis setting against the
// Flagger accessor it mirrors (pkg/apis/flagger/v1beta1/canary.go and
// pkg/controller/scheduler.go, v1.44.0).
func TestDecodeFlaggerDefaults(t *testing.T) {
	cases := []struct {
		name     string
		obj      map[string]any
		opts     Options
		warnings int
		field    func(Facts) float64
		want     float64
	}{
		// GetAnalysisThreshold
		{"threshold unset: GetAnalysisThreshold 1", analysisOf(map[string]any{}), Options{}, 0, threshold, 1},
		{"threshold 0: GetAnalysisThreshold 1", analysisOf(map[string]any{"threshold": int64(0)}), Options{}, 0, threshold, 1},
		{"threshold negative: GetAnalysisThreshold 1", analysisOf(map[string]any{"threshold": int64(-3)}), Options{}, 0, threshold, 1},
		{"threshold wrong type: GetAnalysisThreshold 1", analysisOf(map[string]any{"threshold": "5"}), Options{}, 1, threshold, 1},
		{"threshold 7", analysisOf(map[string]any{"threshold": int64(7)}), Options{}, 0, threshold, 7},
		{"no analysis at all: GetAnalysisThreshold 1", set(base(), nil, "spec", "analysis"), Options{}, 0, threshold, 1},

		// GetAnalysisInterval
		{"interval unset: GetAnalysisInterval 60s", analysisOf(map[string]any{}), Options{}, 0, interval, 60},
		{"interval unparseable: GetAnalysisInterval 60s", analysisOf(map[string]any{"interval": "soon"}), Options{}, 1, interval, 60},
		{"interval 5s: GetAnalysisInterval floor 10s", analysisOf(map[string]any{"interval": "5s"}), Options{}, 0, interval, 10},
		{"interval negative: GetAnalysisInterval floor 10s", analysisOf(map[string]any{"interval": "-1m"}), Options{}, 0, interval, 10},
		{"interval 10s", analysisOf(map[string]any{"interval": "10s"}), Options{}, 0, interval, 10},
		{"interval 1m30s", analysisOf(map[string]any{"interval": "1m30s"}), Options{}, 0, interval, 90},
		{"interval 1.5s rounds up to the floor", analysisOf(map[string]any{"interval": "1500ms"}), Options{}, 0, interval, 10},

		// maxWeight
		{"maxWeight unset: maxWeight totalWeight", analysisOf(map[string]any{}), Options{}, 0, maxW, 100},
		{"maxWeight 0: maxWeight totalWeight", analysisOf(map[string]any{"maxWeight": int64(0)}), Options{}, 0, maxW, 100},
		{"maxWeight negative: maxWeight totalWeight", analysisOf(map[string]any{"maxWeight": int64(-20)}), Options{}, 0, maxW, 100},
		{"maxWeight above 100 is not capped (Flagger then never promotes)", analysisOf(map[string]any{"maxWeight": int64(150)}), Options{}, 0, maxW, 150},
		{"maxWeight 30", analysisOf(map[string]any{"maxWeight": int64(30)}), Options{}, 0, maxW, 30},
		{"stepWeights: maxWeight is their last", analysisOf(map[string]any{"stepWeights": []any{int64(10), int64(40)}}), Options{}, 0, maxW, 40},
		{"stepWeights win over maxWeight", analysisOf(map[string]any{"maxWeight": int64(80), "stepWeights": []any{int64(10), int64(40)}}), Options{}, 0, maxW, 40},
		{"stepWeights last capped at totalWeight", analysisOf(map[string]any{"stepWeights": []any{int64(20), int64(150)}}), Options{}, 0, maxW, 100},
		{"stepWeights empty: maxWeight", analysisOf(map[string]any{"maxWeight": int64(30), "stepWeights": []any{}}), Options{}, 0, maxW, 30},
		{"stepWeights with a non-number: unreadable, maxWeight", analysisOf(map[string]any{"maxWeight": int64(30), "stepWeights": []any{int64(10), "x"}}), Options{}, 1, maxW, 30},
		{"stepWeights wrong type: unreadable, maxWeight", analysisOf(map[string]any{"maxWeight": int64(30), "stepWeights": "10,40"}), Options{}, 1, maxW, 30},

		// stepWeight: nextStepWeight from 0
		{"neither stepWeight nor stepWeights: absent", analysisOf(map[string]any{"maxWeight": int64(30)}), Options{}, 0, stepW, Absent},
		{"stepWeight 5", analysisOf(map[string]any{"stepWeight": int64(5)}), Options{}, 0, stepW, 5},
		{"stepWeight 0 without stepWeights: nextStepWeight 0 (Flagger never steps)", analysisOf(map[string]any{"stepWeight": int64(0)}), Options{}, 0, stepW, 0},
		{"stepWeights: the first", analysisOf(map[string]any{"stepWeights": []any{int64(10), int64(40)}}), Options{}, 0, stepW, 10},
		{"stepWeights first capped at totalWeight", analysisOf(map[string]any{"stepWeights": []any{int64(120)}}), Options{}, 0, stepW, 100},
		{"stepWeight > 0 wins over stepWeights", analysisOf(map[string]any{"stepWeight": int64(15), "stepWeights": []any{int64(10), int64(40)}}), Options{}, 0, stepW, 15},
		{"stepWeight 0 with stepWeights: the first of stepWeights", analysisOf(map[string]any{"stepWeight": int64(0), "stepWeights": []any{int64(10), int64(40)}}), Options{}, 0, stepW, 10},

		// promotion weight: where runCanary's steps stop
		{"promotion weight: steps land on maxWeight", analysisOf(map[string]any{"stepWeight": int64(10), "maxWeight": int64(50)}), Options{}, 0, promo, 50},
		{"promotion weight: the step past maxWeight", analysisOf(map[string]any{"stepWeight": int64(15), "maxWeight": int64(50)}), Options{}, 0, promo, 60},
		{"promotion weight: maxWeight above 100, stuck at 100", analysisOf(map[string]any{"stepWeight": int64(30), "maxWeight": int64(150)}), Options{}, 0, promo, 100},
		{"promotion weight: stepWeights' last", analysisOf(map[string]any{"stepWeights": []any{int64(10), int64(40)}}), Options{}, 0, promo, 40},

		// GetAnalysis: spec.canaryAnalysis when spec.analysis is absent
		{"canaryAnalysis alias: threshold", set(set(base(), nil, "spec", "analysis"), map[string]any{"threshold": int64(4), "interval": "30s"}, "spec", "canaryAnalysis"), Options{}, 0, threshold, 4},
		{"canaryAnalysis alias: interval", set(set(base(), nil, "spec", "analysis"), map[string]any{"threshold": int64(4), "interval": "30s"}, "spec", "canaryAnalysis"), Options{}, 0, interval, 30},
		{"canaryAnalysis alias: warnings name it", set(set(base(), nil, "spec", "analysis"), map[string]any{"interval": "x"}, "spec", "canaryAnalysis"), Options{}, 1, interval, 60},
		{"analysis wins over canaryAnalysis", set(base(), map[string]any{"threshold": int64(4)}, "spec", "canaryAnalysis"), Options{}, 0, threshold, 10},
		{"analysis: null falls back to canaryAnalysis", set(set(base(), nil, "spec", "analysis"), map[string]any{"threshold": int64(4)}, "spec", "canaryAnalysis"), Options{}, 0, threshold, 4},

		// advanceCanary on the kubernetes provider: iterations < 1 become 10
		{"kubernetes: iterations unset become 10", set(base(), nil, "spec", "provider"), Options{MeshProvider: KubernetesProvider}, 0, iterations, 10},
		{"kubernetes: iterations 0 become 10", set(set(base(), "kubernetes", "spec", "provider"), int64(0), "spec", "analysis", "iterations"), Options{}, 0, iterations, 10},
		{"kubernetes: iterations 3 stay", set(set(base(), "kubernetes", "spec", "provider"), int64(3), "spec", "analysis", "iterations"), Options{}, 0, iterations, 3},
		{"istio: iterations unset stay absent", base(), Options{}, 0, iterations, Absent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Decode(tc.obj, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != tc.warnings {
				t.Errorf("want %d warnings, got %q", tc.warnings, warnings)
			}
			if got := tc.field(c); got != tc.want && !(IsAbsent(got) && IsAbsent(tc.want)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func threshold(c Facts) float64  { return c.Threshold }
func interval(c Facts) float64   { return c.IntervalSeconds }
func maxW(c Facts) float64       { return c.MaxWeight }
func stepW(c Facts) float64      { return c.StepWeight }
func promo(c Facts) float64      { return c.PromotionWeight }
func iterations(c Facts) float64 { return c.AnalysisIterations }

func TestDecodeAliasWarningPath(t *testing.T) {
	_, warnings, _ := Decode(set(set(base(), nil, "spec", "analysis"), map[string]any{"interval": "x"}, "spec", "canaryAnalysis"), Options{})
	if len(warnings) != 1 || warnings[0] != `spec.canaryAnalysis.interval "x" is not a duration` {
		t.Errorf("%q", warnings)
	}
	_, warnings, _ = Decode(analysisOf(map[string]any{"stepWeights": []any{int64(1), true}}), Options{})
	if len(warnings) != 1 || warnings[0] != `spec.analysis.stepWeights[1] has type bool` {
		t.Errorf("%q", warnings)
	}
}

// TestDecodeProviderAndStrategy: advanceCanary's provider (spec.provider,
// else the global -mesh-provider) and DeploymentStrategy, with the kubernetes
// provider's forced blue/green.
func TestDecodeProviderAndStrategy(t *testing.T) {
	match := []any{map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "1"}}}}
	noProvider := func() map[string]any { return set(base(), nil, "spec", "provider") }
	cases := []struct {
		name               string
		obj                map[string]any
		opts               Options
		provider, strategy string
	}{
		{"no spec.provider, no mesh provider: Flagger's default istio", noProvider(), Options{}, "istio", StrategyCanary},
		{"no spec.provider: the mesh provider", noProvider(), Options{MeshProvider: "linkerd"}, "linkerd", StrategyCanary},
		{"empty spec.provider: the mesh provider", set(base(), "", "spec", "provider"), Options{MeshProvider: "nginx"}, "nginx", StrategyCanary},
		{"spec.provider overrides the mesh provider", set(base(), "nginx", "spec", "provider"), Options{MeshProvider: KubernetesProvider}, "nginx", StrategyCanary},
		{"kubernetes mesh provider: progressive canary runs blue/green", noProvider(), Options{MeshProvider: KubernetesProvider}, KubernetesProvider, StrategyBlueGreen},
		{"kubernetes spec.provider: A/B match dropped, blue/green", set(set(set(base(), KubernetesProvider, "spec", "provider"), int64(3), "spec", "analysis", "iterations"), match, "spec", "analysis", "match"), Options{}, KubernetesProvider, StrategyBlueGreen},
		{"nginx with match and iterations: A/B", set(set(set(base(), "nginx", "spec", "provider"), int64(3), "spec", "analysis", "iterations"), match, "spec", "analysis", "match"), Options{}, "nginx", StrategyABTesting},
		{"provider is case-sensitive like Flagger's", set(base(), "Kubernetes", "spec", "provider"), Options{}, "Kubernetes", StrategyCanary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Decode(tc.obj, tc.opts)
			if err != nil || len(warnings) != 0 {
				t.Fatalf("err=%v warnings=%q", err, warnings)
			}
			if c.Provider != tc.provider || c.Strategy != tc.strategy {
				t.Errorf("provider %q strategy %q, want %q %q", c.Provider, c.Strategy, tc.provider, tc.strategy)
			}
		})
	}
}

// TestPromotionWeight walks runCanary's steps (nextStepWeight, capped at
// totalWeight, while below maxWeight) like Flagger.
func TestPromotionWeight(t *testing.T) {
	same := make([]float64, 20) // long enough for the map lookup
	for i := range same {
		same[i] = 5
	}
	same = append(same, 50)
	ramp := make([]float64, 30)
	for i := range ramp {
		ramp[i] = float64(i + 1)
	}
	cases := []struct {
		name        string
		step        float64
		steps       []float64
		maxW, wants float64
	}{
		{"stepWeight 10 to 50", 10, nil, 50, 50},
		{"stepWeight 15 to 50 overshoots to 60", 15, nil, 50, 60},
		{"stepWeight 60 past maxWeight 50 in one step", 60, nil, 50, 60},
		{"stepWeight 70 to 100 capped at totalWeight", 70, nil, 100, 100},
		{"stepWeight 0: never steps", 0, nil, 50, 0},
		{"stepWeight negative: never steps", -5, nil, 50, 0},
		{"maxWeight 0: promotes at 0", 10, nil, 0, 0},
		{"stepWeights 10, 40", 0, []float64{10, 40}, 40, 40},
		{"stepWeights 10, 200: capped by maxStep", 0, []float64{10, 200}, 100, 100},
		{"stepWeights ending at 100", 0, []float64{1, 2, 5, 10, 20, 50, 80, 100}, 100, 100},
		{"stepWeights not increasing: stalls at 30", 0, []float64{30, 20, 60}, 60, 30},
		{"stepWeights 10, 40, 60", 0, []float64{10, 40, 60}, 60, 60},
		{"stepWeight > 0 ignores stepWeights' steps", 25, []float64{10, 40}, 40, 50},
		{"long stepWeights, first match wins (map lookup)", 0, same, 50, 5},
		{"long stepWeights ramp (map lookup)", 0, ramp, 30, 30},
		{"fractional steps are bounded", 1e-9, nil, 50, 256e-9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := promotionWeight(tc.step, tc.steps, tc.maxW); got != tc.wants && !(got > tc.wants-1e-15 && got < tc.wants+1e-15) {
				t.Errorf("got %v, want %v", got, tc.wants)
			}
		})
	}
}
