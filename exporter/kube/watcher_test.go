package kube

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/canary"
	"github.com/flagger-monitoring/flagger-monitoring/exporter/store"
	"github.com/flagger-monitoring/flagger-monitoring/internal/flagger"
)

func canaryObject(ns, name, phase string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"targetRef": map[string]any{"kind": "Deployment", "name": name}},
		"status":   map[string]any{"phase": phase},
	}}
}

// A unit test with client-go's fake dynamic client; the real API server is
// exercised by the tests in test/exporter.
func TestWatcherFeedsStore(t *testing.T) {
	scheme := runtime.NewScheme()
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
		map[schema.GroupVersionResource]string{CanaryResource: "CanaryList"},
		canaryObject("a", "one", "Progressing"))
	st := store.New()
	reg := prometheus.NewRegistry()
	w := runWatcher(t, Config{Client: client, Sink: st, Logger: log.NewNopLogger(), Registerer: reg,
		Decode: canary.Options{MeshProvider: canary.KubernetesProvider}})
	ctx := t.Context()
	waitFor(t, func() bool { return w.Synced() == nil && st.Len() == 1 })
	// The global mesh provider reaches the decoder: a Canary without
	// spec.provider runs on it, blue/green.
	if f := st.Snapshot()[0].Facts; f.Provider != canary.KubernetesProvider || f.Strategy != canary.StrategyBlueGreen {
		t.Errorf("provider %q strategy %q, want the configured mesh provider", f.Provider, f.Strategy)
	}

	res := client.Resource(CanaryResource)
	if _, err := res.Namespace("a").Update(ctx, canaryObject("a", "one", "Failed"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		s := st.Snapshot()
		return len(s) == 1 && s[0].Facts.Phase == flagger.PhaseFailed && s[0].Transitions[flagger.PhaseFailed] == 1
	})

	// An object without a namespace cannot be exported: counted, not stored.
	bad := canaryObject("", "nameless", "Failed")
	if _, err := res.Namespace("").Create(ctx, bad, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return testutil.ToFloat64(w.metrics.decodeErrors) == 1 })
	if st.Len() != 1 {
		t.Errorf("undecodable object stored")
	}

	if err := res.Namespace("a").Delete(ctx, "one", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.Len() == 0 })
}

func TestTransformKeepsOnlyFacts(t *testing.T) {
	u := canaryObject("a", "one", "Waiting")
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "flagger"}})
	u.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}"})
	out, err := transform(canary.Options{})(u)
	if err != nil {
		t.Fatal(err)
	}
	o := out.(*object)
	if o.ManagedFields != nil || o.Annotations != nil || o.decoded.facts.Phase != flagger.PhaseWaiting || o.Name != "one" {
		t.Fatalf("transform kept %+v", o)
	}
	// The facts are handed over once; the cache keeps the identity only.
	if d := o.take(); d == nil || o.decoded != nil || o.take() != nil {
		t.Fatal("the decoded facts were not handed over exactly once")
	}
	key, err := cache.MetaNamespaceKeyFunc(o)
	if err != nil || key != "a/one" {
		t.Fatalf("key %q %v", key, err)
	}
	if tomb := (cache.DeletedFinalStateUnknown{Key: "a/one"}); func() bool { r, _ := transform(canary.Options{})(tomb); return r != tomb }() {
		t.Fatal("tombstone transformed")
	}
}

func TestDeleteHandlesTombstones(t *testing.T) {
	st := store.New()
	w := &Watcher{sink: st, logger: log.NewNopLogger(), metrics: newMetrics(nil, nil)}
	for _, n := range []string{"x", "y"} {
		o, _ := transform(canary.Options{})(canaryObject("ns", n, ""))
		w.upsert(o)
	}
	o, _ := transform(canary.Options{})(canaryObject("ns", "x", ""))
	w.delete(cache.DeletedFinalStateUnknown{Key: "ns/x", Obj: o})
	w.delete(cache.DeletedFinalStateUnknown{Key: "ns/y"})
	if st.Len() != 0 {
		t.Fatalf("tombstones not deleted: %d left", st.Len())
	}
}

func TestClassify(t *testing.T) {
	gr := schema.GroupResource{Group: "flagger.app", Resource: "canaries"}
	for err, want := range map[error]string{
		apierrors.NewNotFound(gr, ""):                  "crd_missing",
		apierrors.NewForbidden(gr, "", errors.New("")): "forbidden",
		apierrors.NewUnauthorized(""):                  "unauthorized",
		apierrors.NewResourceExpired("too old"):        "expired",
		fmt.Errorf("watch: %w", io.EOF):                "closed",
		errors.New("dial tcp: connection refused"):     "other",
	} {
		if got := classify(err).reason; got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

func TestInvalidLabelSelector(t *testing.T) {
	if _, err := New(Config{LabelSelector: "a in (", Logger: log.NewNopLogger()}); err == nil {
		t.Fatal("invalid selector accepted")
	}
}

// runWatcher starts a Watcher until the test ends.
func runWatcher(t *testing.T, c Config) *Watcher {
	t.Helper()
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(t.Context())
	return w
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
