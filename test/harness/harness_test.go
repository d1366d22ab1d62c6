package harness_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

var canaries = kube.CanaryResource

// TestHarness proves the pieces every integration test relies on: CRDs,
// status subresource writes seen by a dynamic informer, kubectl server-side
// validation (accepting and rejecting), impersonation and an API server
// restart.
func TestHarness(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD(), harness.PrometheusOperatorCRD(t, "monitoring.coreos.com_prometheusrules.yaml"))
	ctx := context.Background()
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, harness.Namespace("test"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := dynamicinformer.NewDynamicSharedInformerFactory(c.Dynamic, 0)
	inf := factory.ForResource(canaries).Informer()
	phases := make(chan string, 16)
	record := func(obj any) {
		u := obj.(*unstructured.Unstructured)
		p, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		phases <- p
	}
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, o any) { record(o) }})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	cr := c.CreateCanary(t, "test", "podinfo", "podinfo")
	expectPhase(t, phases, "")
	cr = c.SetCanaryStatus(t, cr, map[string]any{"phase": "Progressing", "canaryWeight": int64(10), "failedChecks": int64(0)})
	expectPhase(t, phases, "Progressing")
	if w, _, _ := unstructured.NestedInt64(cr.Object, "status", "canaryWeight"); w != 10 {
		t.Errorf("status subresource did not keep canaryWeight: %v", cr.Object["status"])
	}

	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: test}\ndata: {a: b}\n"
	if out, errOut, err := c.Kubectl(t, "", []byte(cm), "apply", "--dry-run=server", "-f", "-"); err != nil {
		t.Fatalf("ConfigMap dry-run rejected: %v %s %s", err, out, errOut)
	}
	rule := "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r, namespace: test}\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: up == 0\n      for: 1m\n"
	if out, errOut, err := c.Kubectl(t, "", []byte(rule), "apply", "--dry-run=server", "-f", "-"); err != nil {
		t.Fatalf("PrometheusRule dry-run rejected: %v %s %s", err, out, errOut)
	}
	bad := strings.Replace(rule, "for: 1m", "for: soon", 1)
	_, errOut, err := c.Kubectl(t, "", []byte(bad), "apply", "--dry-run=server", "-f", "-")
	if err == nil || !strings.Contains(errOut, "for") {
		t.Fatalf("malformed PrometheusRule accepted (err=%v): %s", err, errOut)
	}

	// A ServiceAccount with no RBAC is forbidden to list canaries.
	sa := c.AsServiceAccount("test", "nobody")
	if _, errOut, err := c.Kubectl(t, c.WriteKubeconfig(t, "nobody", sa), nil, "get", "canaries", "-A"); err == nil || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("impersonated ServiceAccount was not forbidden: %v %s", err, errOut)
	}

	// The API server restarts on the same etcd and address; the informer
	// reconnects and sees writes made after the restart.
	c.StopAPIServer(t)
	c.StartAPIServer(t)
	c.SetCanaryStatus(t, c.GetCanary(t, "test", "podinfo"), map[string]any{"phase": "Succeeded"})
	expectPhase(t, phases, "Succeeded")
}

func expectPhase(t *testing.T, phases <-chan string, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case p := <-phases:
			if p == want {
				return
			}
		case <-deadline:
			t.Fatalf("informer never saw phase %q", want)
		}
	}
}
