package harness

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// Readiness is what the readiness stand-in makes a Deployment look like.
type Readiness int

const (
	// Ready: the rollout finished, every replica updated and available.
	Ready Readiness = iota
	// RolloutPending: the new ReplicaSet has no updated replica yet. Flagger
	// reads it as "waiting for rollout to finish", a retriable error: it
	// halts the analysis and tries again next interval.
	RolloutPending
	// DeadlineExceeded: the Progressing condition says
	// ProgressDeadlineExceeded, which Flagger treats as not retriable (a
	// rollback, or a failed promotion while promoting).
	DeadlineExceeded
)

// Deployments stands in for the deployment controller (there is no
// controller-manager or kubelet): it writes every Deployment's status the way
// the deployment controller reports a finished rollout, which is all
// Flagger's isDeploymentReady reads (observedGeneration, replica counts, the
// Progressing and Available conditions). Set switches one Deployment to
// another Readiness.
type Deployments struct {
	c     *Cluster
	mu    sync.Mutex
	modes map[string]Readiness // namespace/name
	stop  chan struct{}
}

// StartDeployments runs the stand-in until the test ends.
func (c *Cluster) StartDeployments(t testing.TB) *Deployments {
	t.Helper()
	d := &Deployments{c: c, modes: map[string]Readiness{}, stop: make(chan struct{})}
	factory := informers.NewSharedInformerFactory(c.Kube, 30*time.Second)
	inf := factory.Apps().V1().Deployments().Informer()
	sync := func(obj any) {
		if dep, ok := obj.(*appsv1.Deployment); ok {
			d.sync(dep.Namespace, dep.Name)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    sync,
		UpdateFunc: func(_, obj any) { sync(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	factory.Start(d.stop)
	t.Cleanup(func() { close(d.stop); factory.Shutdown() })
	factory.WaitForCacheSync(d.stop)
	return d
}

// Set makes namespace/name look like r from now on and writes its status.
func (d *Deployments) Set(t testing.TB, namespace, name string, r Readiness) {
	t.Helper()
	d.mu.Lock()
	d.modes[namespace+"/"+name] = r
	d.mu.Unlock()
	if err := d.sync(namespace, name); err != nil {
		t.Fatalf("readiness stand-in: %s/%s: %v", namespace, name, err)
	}
}

func (d *Deployments) mode(namespace, name string) Readiness {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.modes[namespace+"/"+name]
}

// sync writes the status the Deployment's mode calls for, unless it has it.
func (d *Deployments) sync(namespace, name string) error {
	client := d.c.Kube.AppsV1().Deployments(namespace)
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		dep, err := client.Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		want := deploymentStatus(dep, d.mode(namespace, name))
		if reflect.DeepEqual(stripTimes(dep.Status), stripTimes(want)) {
			return nil
		}
		dep.Status = want
		_, err = client.UpdateStatus(context.Background(), dep, metav1.UpdateOptions{})
		return err
	})
}

// deploymentStatus is the status the deployment controller would report.
func deploymentStatus(dep *appsv1.Deployment, r Readiness) appsv1.DeploymentStatus {
	replicas := int32(1)
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	now := metav1.Now()
	s := appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation,
		Replicas:           replicas, UpdatedReplicas: replicas,
		ReadyReplicas: replicas, AvailableReplicas: replicas,
	}
	progressing := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
		Reason: "NewReplicaSetAvailable", Message: "ReplicaSet has successfully progressed."}
	available := appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
		Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability."}
	switch r {
	case RolloutPending:
		s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas = 0, 0, 0
		progressing.Reason, progressing.Message = "ReplicaSetUpdated", "ReplicaSet is progressing."
	case DeadlineExceeded:
		s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas = 0, 0, 0
		progressing.Status, progressing.Reason = corev1.ConditionFalse, "ProgressDeadlineExceeded"
		progressing.Message = "ReplicaSet has timed out progressing."
		available.Status, available.Reason = corev1.ConditionFalse, "MinimumReplicasUnavailable"
		available.Message = "Deployment does not have minimum availability."
	}
	// Keep the transition times of conditions that did not change, as the
	// deployment controller does; otherwise every sync would be a write.
	for _, c := range []*appsv1.DeploymentCondition{&progressing, &available} {
		c.LastUpdateTime, c.LastTransitionTime = now, now
		for _, old := range dep.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status && old.Reason == c.Reason {
				c.LastUpdateTime, c.LastTransitionTime = old.LastUpdateTime, old.LastTransitionTime
			}
		}
	}
	s.Conditions = []appsv1.DeploymentCondition{available, progressing}
	return s
}

func stripTimes(s appsv1.DeploymentStatus) appsv1.DeploymentStatus {
	s.Conditions = append([]appsv1.DeploymentCondition(nil), s.Conditions...)
	for i := range s.Conditions {
		s.Conditions[i].LastUpdateTime, s.Conditions[i].LastTransitionTime = metav1.Time{}, metav1.Time{}
	}
	return s
}
