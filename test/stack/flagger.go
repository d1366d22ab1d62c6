package stack

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// FlaggerOptions configure the real Flagger in a stack.
type FlaggerOptions struct {
	// MeshProvider is Flagger's global -mesh-provider (kubernetes when
	// empty: it needs no mesh); canaries may set spec.provider (nginx).
	MeshProvider string
}

// Flagger is the real controller of a stack in Flagger mode, with what it
// needs and what it says: the readiness stand-in for Deployments, the
// webhook gates its canaries call, and loopback recorders for its own Slack
// messages and event-webhook posts.
type Flagger struct {
	*harness.Flagger
	Deployments *harness.Deployments
	Hooks       *harness.Hooks
	// Slack and Events record what Flagger itself posts (-slack-url,
	// -event-webhook), to hold the Alertmanager path against.
	Slack, Events *Sink

	cluster *harness.Cluster
	opts    harness.FlaggerOptions
}

// Restart stops Flagger and starts it again on the same address, as a pod
// restart would: its metrics start from nothing.
func (f *Flagger) Restart(t testing.TB) {
	t.Helper()
	f.Stop()
	f.opts.Addr = f.Addr
	f.Flagger = f.cluster.StartFlagger(t, f.opts)
}

// startFlagger starts the readiness stand-in, the hooks, Flagger's own
// recorders and Flagger; it returns Flagger's metrics address for Prometheus.
func (s *Stack) startFlagger(t testing.TB, o FlaggerOptions, seq *atomic.Int64) string {
	t.Helper()
	if o.MeshProvider == "" {
		o.MeshProvider = "kubernetes"
	}
	f := &Flagger{
		Deployments: s.Cluster.StartDeployments(t),
		Hooks:       harness.StartHooks(t),
		Slack:       newSink("flagger-slack", seq, 200, "text/plain", "ok"),
		Events:      newSink("flagger-event", seq, 202, "", ""),
	}
	t.Cleanup(f.Slack.close)
	t.Cleanup(f.Events.close)
	f.cluster = s.Cluster
	f.opts = harness.FlaggerOptions{
		MeshProvider: o.MeshProvider,
		SlackURL:     f.Slack.URL,
		EventWebhook: f.Events.URL,
	}
	f.Flagger = s.Cluster.StartFlagger(t, f.opts)
	s.Flagger = f
	return f.Addr
}

// FlaggerStepTimeout bounds one wait for the real Flagger: a few analysis
// intervals (10 s, Flagger's minimum) plus its 1 s control loop.
const FlaggerStepTimeout = 75 * time.Second

// CanarySpec is what a test varies in a Canary for the real Flagger.
type CanarySpec struct {
	Provider     string // "" uses Flagger's global provider
	Interval     string
	Threshold    int64
	StepWeight   int64
	MaxWeight    int64
	StepWeights  []int64
	Iterations   int64
	Match        bool // A/B: route requests with header x-canary: insider
	SkipAnalysis bool
	Deadline     int64 // progressDeadlineSeconds; 600 when 0
	// Hooks are webhook types (confirm-rollout, rollout, …); each calls
	// HookPath(namespace, type) on the hooks server.
	Hooks []string
}

// HookPath is the hooks-server path of a canary's webhook of type typ.
func HookPath(namespace, typ string) string { return "/" + namespace + "/" + typ }

// AddFlaggerCanary creates namespace (if needed), the Deployment target
// (and, for nginx, its Ingress) and a Canary name for Flagger, and waits
// until Flagger has initialised it.
func (s *Stack) AddFlaggerCanary(t testing.TB, namespace, name, target string, spec CanarySpec) {
	t.Helper()
	c := s.Cluster
	s.ensureNamespace(t, namespace)
	c.CreateWorkload(t, namespace, target)
	analysis := map[string]any{"interval": spec.Interval, "threshold": spec.Threshold}
	set := func(key string, v int64) {
		if v > 0 {
			analysis[key] = v
		}
	}
	set("stepWeight", spec.StepWeight)
	set("maxWeight", spec.MaxWeight)
	set("iterations", spec.Iterations)
	if len(spec.StepWeights) > 0 {
		ws := []any{}
		for _, w := range spec.StepWeights {
			ws = append(ws, w)
		}
		analysis["stepWeights"] = ws
	}
	if spec.Match {
		analysis["match"] = []any{map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "insider"}}}}
	}
	var hooks []any
	for _, h := range spec.Hooks {
		hooks = append(hooks, map[string]any{"name": h, "type": h, "url": s.Flagger.Hooks.URL + HookPath(namespace, h), "timeout": "5s"})
	}
	if hooks != nil {
		analysis["webhooks"] = hooks
	}
	deadline := spec.Deadline
	if deadline == 0 {
		deadline = 600
	}
	cs := map[string]any{
		"targetRef":               map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
		"progressDeadlineSeconds": deadline,
		"service":                 map[string]any{"port": int64(9898)},
		"analysis":                analysis,
		"skipAnalysis":            spec.SkipAnalysis,
	}
	if spec.Provider != "" {
		cs["provider"] = spec.Provider
	}
	if spec.Provider == "nginx" {
		c.CreateIngress(t, namespace, target)
		cs["ingressRef"] = map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": target}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec":     cs,
	}}
	if _, err := c.Dynamic.Resource(kube.CanaryResource).Namespace(namespace).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create canary %s/%s: %v", namespace, name, err)
	}
	harness.Eventually(t, FlaggerStepTimeout, func() string {
		if st := s.CanaryStatus(t, namespace, name); st.Phase != "Initialized" {
			return fmt.Sprintf("canary %s/%s: Flagger has not initialised it: %+v", namespace, name, st)
		}
		return ""
	})
}

// CanaryStatus is the part of a Canary's status the tests read.
type CanaryStatus struct {
	Phase                    string
	CanaryWeight, Iterations int64
	FailedChecks             int64
}

// CanaryStatus reads the Canary's status as Flagger last wrote it.
func (s *Stack) CanaryStatus(t testing.TB, namespace, name string) CanaryStatus {
	t.Helper()
	st, err := s.canaryStatus(namespace, name)
	if err != nil {
		t.Fatalf("get canary %s/%s: %v", namespace, name, err)
	}
	return st
}

// CanaryStatusText describes the Canary's status for a message, and says so
// when there is none (a deleted canary) instead of failing the test.
func (s *Stack) CanaryStatusText(namespace, name string) string {
	st, err := s.canaryStatus(namespace, name)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%+v", st)
}

func (s *Stack) canaryStatus(namespace, name string) (CanaryStatus, error) {
	u, err := s.Cluster.Dynamic.Resource(kube.CanaryResource).Namespace(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return CanaryStatus{}, err
	}
	var st CanaryStatus
	st.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	st.CanaryWeight, _, _ = unstructured.NestedInt64(u.Object, "status", "canaryWeight")
	st.Iterations, _, _ = unstructured.NestedInt64(u.Object, "status", "iterations")
	st.FailedChecks, _, _ = unstructured.NestedInt64(u.Object, "status", "failedChecks")
	return st, nil
}
