package harness

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
)

// Namespace is a namespace object to create.
func Namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// NewCanary is a minimal valid Canary targeting the Deployment target, shaped
// like Flagger's own examples.
func NewCanary(namespace, name, target string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "flagger.app/v1beta1",
		"kind":       "Canary",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"provider":                "istio",
			"progressDeadlineSeconds": int64(600),
			"targetRef":               map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
			"service":                 map[string]any{"port": int64(9898)},
			"analysis": map[string]any{
				"interval": "15s", "threshold": int64(5), "maxWeight": int64(50), "stepWeight": int64(10),
			},
		},
	}}
}

// CreateCanary creates NewCanary(namespace, name, target).
func (c *Cluster) CreateCanary(t testing.TB, namespace, name, target string) *unstructured.Unstructured {
	t.Helper()
	u, err := c.Dynamic.Resource(kube.CanaryResource).Namespace(namespace).Create(context.Background(), NewCanary(namespace, name, target), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create canary %s/%s: %v", namespace, name, err)
	}
	return u
}

// GetCanary reads a Canary.
func (c *Cluster) GetCanary(t testing.TB, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := c.Dynamic.Resource(kube.CanaryResource).Namespace(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get canary %s/%s: %v", namespace, name, err)
	}
	return u
}

// SetCanaryStatus merges fields into the Canary's status and writes it
// through the status subresource, as Flagger does.
func (c *Cluster) SetCanaryStatus(t testing.TB, u *unstructured.Unstructured, fields map[string]any) *unstructured.Unstructured {
	t.Helper()
	u = u.DeepCopy()
	status, _, _ := unstructured.NestedMap(u.Object, "status")
	if status == nil {
		status = map[string]any{}
	}
	for k, v := range fields {
		status[k] = v
	}
	u.Object["status"] = status
	out, err := c.Dynamic.Resource(kube.CanaryResource).Namespace(u.GetNamespace()).UpdateStatus(context.Background(), u, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status of canary %s/%s: %v", u.GetNamespace(), u.GetName(), err)
	}
	return out
}
