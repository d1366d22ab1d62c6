package canary

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

// base is a Canary as the API server returns it, with client-go's JSON number
// types (int64 for integers).
func base() map[string]any {
	return map[string]any{
		"apiVersion": "flagger.app/v1beta1",
		"kind":       "Canary",
		"metadata":   map[string]any{"name": "podinfo", "namespace": "test", "creationTimestamp": "2026-01-02T03:04:05Z"},
		"spec": map[string]any{
			"provider":                "istio",
			"progressDeadlineSeconds": int64(60),
			"targetRef":               map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo-app"},
			"analysis": map[string]any{
				"interval": "15s", "threshold": int64(10), "maxWeight": int64(50), "stepWeight": int64(5),
			},
		},
		"status": map[string]any{
			"phase": "Progressing", "failedChecks": int64(2), "canaryWeight": int64(15), "iterations": int64(0),
			"lastTransitionTime": "2026-01-02T03:05:00Z",
			"lastAppliedSpec":    "4cb74184589", "trackedConfigs": map[string]any{"test-config-map": "484637c76acaa7c6"},
			"conditions": []any{map[string]any{"type": "Promoted", "status": "Unknown", "reason": "Progressing"}},
		},
	}
}

func set(obj map[string]any, value any, path ...string) map[string]any {
	m := obj
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	if value == nil {
		delete(m, path[len(path)-1])
	} else {
		m[path[len(path)-1]] = value
	}
	return obj
}

func TestDecodeFullObject(t *testing.T) {
	c, warnings, err := Decode(base(), Options{})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("err=%v warnings=%v", err, warnings)
	}
	want := Facts{
		Namespace: "test", Name: "podinfo", TargetKind: "Deployment", TargetName: "podinfo-app",
		Provider: "istio", Strategy: StrategyCanary, Phase: flagger.PhaseProgressing, Promoted: ConditionUnknown,
		FailedChecks: 2, CanaryWeight: 15, Iterations: 0,
		LastTransition: 1767323100, Created: 1767323045,
		Threshold: 10, AnalysisIterations: Absent, MaxWeight: 50, StepWeight: 5,
		IntervalSeconds: 15, ProgressDeadlineSeconds: 60, PromotionWeight: 50,
		Checksum: "569bdb7cb9",
	}
	if !equal(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if c.FlaggerStatus() != 0 {
		t.Errorf("Progressing must be Flagger status 0, got %v", c.FlaggerStatus())
	}
}

// equal compares canaries treating NaN (Absent) as equal to itself.
func equal(a, b Facts) bool {
	fa := []*float64{&a.FailedChecks, &a.CanaryWeight, &a.Iterations, &a.LastTransition, &a.Created, &a.Threshold, &a.AnalysisIterations, &a.MaxWeight, &a.StepWeight, &a.IntervalSeconds, &a.ProgressDeadlineSeconds, &a.PromotionWeight}
	fb := []*float64{&b.FailedChecks, &b.CanaryWeight, &b.Iterations, &b.LastTransition, &b.Created, &b.Threshold, &b.AnalysisIterations, &b.MaxWeight, &b.StepWeight, &b.IntervalSeconds, &b.ProgressDeadlineSeconds, &b.PromotionWeight}
	for i := range fa {
		if *fa[i] != *fb[i] && !(IsAbsent(*fa[i]) && IsAbsent(*fb[i])) {
			return false
		}
		*fa[i], *fb[i] = 0, 0
	}
	return a == b
}

func TestDecodeEveryPhase(t *testing.T) {
	wantStatus := map[string]float64{"Progressing": 0, "Failed": 2}
	for i, name := range flagger.PhaseNames[:flagger.PhaseUnknown] {
		c, warnings, err := Decode(set(base(), name, "status", "phase"), Options{})
		if err != nil || len(warnings) != 0 {
			t.Fatalf("%s: err=%v warnings=%v", name, err, warnings)
		}
		if c.Phase != flagger.Phase(i) || c.Phase.String() != name {
			t.Errorf("%s decoded as %v", name, c.Phase)
		}
		want, ok := wantStatus[name]
		if !ok {
			want = 1
		}
		if got := c.FlaggerStatus(); got != want {
			t.Errorf("%s: flagger status %v, want %v", name, got, want)
		}
	}
}

func TestDecodeOddObjects(t *testing.T) {
	huge := strings.Repeat("x", 5000)
	cases := []struct {
		name     string
		obj      map[string]any
		warnings int
		check    func(t *testing.T, c Facts)
	}{
		{"no status at all", set(base(), nil, "status"), 0, func(t *testing.T, c Facts) {
			if c.Phase != flagger.PhaseUnknown || c.FailedChecks != 0 || c.CanaryWeight != 0 || !IsAbsent(c.LastTransition) || c.Promoted != ConditionAbsent {
				t.Errorf("%+v", c)
			}
			if c.FlaggerStatus() != 1 {
				t.Error("empty phase must be Flagger status 1")
			}
		}},
		{"empty phase", set(base(), "", "status", "phase"), 0, func(t *testing.T, c Facts) {
			if c.Phase != flagger.PhaseUnknown {
				t.Errorf("phase %v", c.Phase)
			}
		}},
		{"unknown phase", set(base(), "Exploding", "status", "phase"), 1, func(t *testing.T, c Facts) {
			if c.Phase != flagger.PhaseUnknown {
				t.Errorf("phase %v", c.Phase)
			}
		}},
		{"phase is case-sensitive", set(base(), "failed", "status", "phase"), 1, func(t *testing.T, c Facts) {
			if c.Phase != flagger.PhaseUnknown {
				t.Errorf("phase %v", c.Phase)
			}
		}},
		{"phase wrong type", set(base(), int64(3), "status", "phase"), 1, func(t *testing.T, c Facts) {
			if c.Phase != flagger.PhaseUnknown {
				t.Errorf("phase %v", c.Phase)
			}
		}},
		{"status wrong type", set(base(), "broken", "status"), 1, func(t *testing.T, c Facts) {
			if c.Phase != flagger.PhaseUnknown || c.CanaryWeight != 0 {
				t.Errorf("%+v", c)
			}
		}},
		{"weight as string", set(base(), "15", "status", "canaryWeight"), 1, func(t *testing.T, c Facts) {
			if c.CanaryWeight != 0 {
				t.Errorf("weight %v", c.CanaryWeight)
			}
		}},
		{"fractional weight (CRD says number)", set(base(), 12.5, "status", "canaryWeight"), 0, func(t *testing.T, c Facts) {
			if c.CanaryWeight != 12.5 {
				t.Errorf("weight %v", c.CanaryWeight)
			}
		}},
		{"absurd numbers", set(set(base(), 1e300, "status", "failedChecks"), int64(-9223372036854775808), "spec", "analysis", "threshold"), 0, func(t *testing.T, c Facts) {
			// GetAnalysisThreshold: a threshold <= 0 means 1.
			if c.FailedChecks != 1e300 || c.Threshold != DefaultThreshold {
				t.Errorf("%v %v", c.FailedChecks, c.Threshold)
			}
		}},
		{"missing targetRef", set(base(), nil, "spec", "targetRef"), 1, func(t *testing.T, c Facts) {
			if c.TargetName != "" || c.TargetKind != "" {
				t.Errorf("%+v", c)
			}
		}},
		{"targetRef wrong type", set(base(), []any{"x"}, "spec", "targetRef"), 2, nil},
		{"spec wrong type", set(base(), "x", "spec"), 2, func(t *testing.T, c Facts) {
			if c.ProgressDeadlineSeconds != DefaultProgressDeadlineSeconds || c.Threshold != DefaultThreshold || c.Provider != DefaultMeshProvider {
				t.Errorf("%+v", c)
			}
		}},
		{"huge label values", set(set(base(), huge, "spec", "targetRef", "name"), huge, "spec", "provider"), 2, func(t *testing.T, c Facts) {
			if len(c.TargetName) != MaxLabelBytes || len(c.Provider) != MaxLabelBytes {
				t.Errorf("not truncated: %d %d", len(c.TargetName), len(c.Provider))
			}
		}},
		{"invalid UTF-8 label", set(base(), "pod\xffinfo", "spec", "targetRef", "name"), 1, func(t *testing.T, c Facts) {
			if !utf8.ValidString(c.TargetName) {
				t.Errorf("%q", c.TargetName)
			}
		}},
		{"bad interval", set(base(), "soon", "spec", "analysis", "interval"), 1, func(t *testing.T, c Facts) {
			if c.IntervalSeconds != DefaultIntervalSeconds {
				t.Errorf("%v", c.IntervalSeconds)
			}
		}},
		{"bad transition time", set(base(), "yesterday", "status", "lastTransitionTime"), 1, func(t *testing.T, c Facts) {
			if !IsAbsent(c.LastTransition) {
				t.Errorf("%v", c.LastTransition)
			}
		}},
		{"conditions wrong type", set(base(), "x", "status", "conditions"), 1, func(t *testing.T, c Facts) {
			if c.Promoted != ConditionAbsent {
				t.Errorf("%v", c.Promoted)
			}
		}},
		{"condition entry wrong type", set(base(), []any{"x", map[string]any{"type": "Promoted", "status": "True"}}, "status", "conditions"), 1, func(t *testing.T, c Facts) {
			if c.Promoted != ConditionTrue {
				t.Errorf("%v", c.Promoted)
			}
		}},
		{"promoted false", set(base(), []any{map[string]any{"type": "Promoted", "status": "False"}}, "status", "conditions"), 0, func(t *testing.T, c Facts) {
			if c.Promoted != ConditionFalse {
				t.Errorf("%v", c.Promoted)
			}
		}},
		{"blue-green", set(base(), int64(10), "spec", "analysis", "iterations"), 0, func(t *testing.T, c Facts) {
			if c.Strategy != StrategyBlueGreen || c.AnalysisIterations != 10 {
				t.Errorf("%v", c.Strategy)
			}
		}},
		{"ab-testing", set(set(base(), int64(10), "spec", "analysis", "iterations"), []any{map[string]any{"headers": map[string]any{}}}, "spec", "analysis", "match"), 0, func(t *testing.T, c Facts) {
			if c.Strategy != StrategyABTesting {
				t.Errorf("%v", c.Strategy)
			}
		}},
		{"match without iterations is canary", set(base(), []any{map[string]any{}}, "spec", "analysis", "match"), 0, func(t *testing.T, c Facts) {
			if c.Strategy != StrategyCanary {
				t.Errorf("%v", c.Strategy)
			}
		}},
		{"suspend and skipAnalysis", set(set(base(), true, "spec", "suspend"), true, "spec", "skipAnalysis"), 0, func(t *testing.T, c Facts) {
			if !c.Suspended || !c.SkipAnalysis {
				t.Errorf("%+v", c)
			}
		}},
		{"suspend wrong type", set(base(), "yes", "spec", "suspend"), 1, func(t *testing.T, c Facts) {
			if c.Suspended {
				t.Error("string suspend read as true")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Decode(tc.obj, Options{})
			if err != nil {
				t.Fatalf("err: %v", err)
			}
			if len(warnings) != tc.warnings {
				t.Errorf("want %d warnings, got %q", tc.warnings, warnings)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestDecodeUndecodable(t *testing.T) {
	for name, obj := range map[string]map[string]any{
		"no metadata":       set(base(), nil, "metadata"),
		"no name":           set(base(), nil, "metadata", "name"),
		"namespace integer": set(base(), int64(1), "metadata", "namespace"),
		"empty object":      {},
		"nil":               nil,
	} {
		if _, _, err := Decode(obj, Options{}); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	seed, _ := json.Marshal(base())
	f.Add(seed)
	f.Add([]byte(`{"metadata":{"name":"a","namespace":"b"},"status":{"phase":"Failed","failedChecks":"x"}}`))
	f.Add([]byte(`{"metadata":{"name":"a","namespace":"b"},"spec":{"analysis":{"iterations":1e308,"match":[1]}}}`))
	f.Add([]byte(`{"metadata":{"name":"\xff","namespace":"b"},"status":{"conditions":[{"type":"Promoted"},7]}}`))
	f.Add([]byte(`{"metadata":{"name":"a","namespace":"b"},"spec":{"canaryAnalysis":{"stepWeights":[10,5,1e308,-3,"x"],"interval":"-5s","threshold":-1}},"status":{"phase":"WaitingPromotion"}}`))
	f.Add([]byte(`{"metadata":{"name":"a","namespace":"b"},"spec":{"provider":"kubernetes","analysis":{"stepWeights":[0.5,0.25],"maxWeight":1e300}},"status":{"phase":"Promoting","iterations":3}}`))
	f.Add([]byte(`{"metadata":{"name":"a","namespace":"b"},"spec":{"analysis":{"stepWeight":1e-300,"maxWeight":1e300}},"status":{"phase":"WaitingPromotion"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		if json.Unmarshal(data, &obj) != nil {
			return
		}
		for _, opts := range []Options{{}, {MeshProvider: KubernetesProvider}} {
			c, _, err := Decode(obj, opts)
			if err != nil {
				return
			}
			if c.Name == "" || c.Namespace == "" {
				t.Fatalf("decoded without identity: %+v", c)
			}
			for _, s := range []string{c.Name, c.Namespace, c.TargetName, c.TargetKind, c.Provider} {
				if !utf8.ValidString(s) || len(s) > MaxLabelBytes {
					t.Fatalf("unsafe label value %q", s)
				}
			}
			if int(c.Phase) >= flagger.NumPhases || c.Promoted > ConditionUnknown || c.Provider == "" {
				t.Fatalf("out of range: %+v", c)
			}
			// Flagger's defaults always give these a value.
			for _, v := range []float64{c.Threshold, c.MaxWeight, c.IntervalSeconds, c.PromotionWeight, c.ProgressDeadlineSeconds} {
				if IsAbsent(v) || math.IsInf(v, 0) {
					t.Fatalf("defaulted number not finite: %+v", c)
				}
			}
			if c.Threshold <= 0 || c.IntervalSeconds < MinIntervalSeconds || c.PromotionWeight > TotalWeight {
				t.Fatalf("default not applied: %+v", c)
			}
			if w := c.RouteWeight(); !(w >= 0 && w <= TotalWeight) {
				t.Fatalf("route weight %v out of 0..100: %+v", w, c)
			}
		}
	})
}

func TestDecodeWebhooks(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"name": "app", "namespace": "ns"},
		"spec": map[string]any{"targetRef": map[string]any{"name": "podinfo"}, "analysis": map[string]any{"webhooks": []any{
			map[string]any{"name": "load", "url": "http://x"}, // no type: rollout
			map[string]any{"name": "gate", "type": "confirm-traffic-increase"},
			map[string]any{"name": "gate2", "type": "confirm-traffic-increase"},
			map[string]any{"name": "typo", "type": "confirm-trafic-increase"},
			"not a webhook",
		}}},
	}
	c, warnings, err := Decode(obj, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint16{"rollout": 1, "confirm-traffic-increase": 2}
	for i, typ := range HookTypes {
		if c.Webhooks[i] != want[typ] {
			t.Errorf("%s webhooks = %d, want %d", typ, c.Webhooks[i], want[typ])
		}
	}
	if len(warnings) != 2 {
		t.Errorf("warnings %q, want one for the unknown type and one for the string", warnings)
	}
}
