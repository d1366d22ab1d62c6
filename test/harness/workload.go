package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// CreateWorkload creates a one-replica Deployment name in namespace, shaped
// like Flagger's podinfo example (selector label app=name, port 9898): the
// target of a Canary. Nothing runs it; the readiness stand-in reports it
// ready.
func (c *Cluster) CreateWorkload(t testing.TB, namespace, name string) {
	t.Helper()
	one := int32(1)
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: name, Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
					Env:   []corev1.EnvVar{{Name: "REVISION", Value: "1"}},
				}}},
			},
		},
	}
	if _, err := c.Kube.AppsV1().Deployments(namespace).Create(context.Background(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/%s: %v", namespace, name, err)
	}
}

// NewRevision changes the workload's pod template (env REVISION=rev), which
// Flagger detects as a new revision to analyse.
func (c *Cluster) NewRevision(t testing.TB, namespace, name string, rev int) {
	t.Helper()
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": name, "env": []any{map[string]any{"name": "REVISION", "value": fmt.Sprint(rev)}}}},
	}}}})
	if _, err := c.Kube.AppsV1().Deployments(namespace).Patch(context.Background(), name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("new revision of %s/%s: %v", namespace, name, err)
	}
}

// CreateIngress creates the Ingress an nginx canary refers to
// (spec.ingressRef): host name.example.com to Service name port 9898.
// Flagger creates and steers the <name>-canary Ingress next to it.
func (c *Cluster) CreateIngress(t testing.TB, namespace, name string) {
	t.Helper()
	pathType := networkingv1.PathTypePrefix
	class := "nginx"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app": name}},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{
				Host: name + ".example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: &pathType,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: name, Port: networkingv1.ServiceBackendPort{Number: 9898},
						}},
					}},
				}},
			}},
		},
	}
	if _, err := c.Kube.NetworkingV1().Ingresses(namespace).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ingress %s/%s: %v", namespace, name, err)
	}
}
