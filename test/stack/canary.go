package stack

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/sim"
)

// AddCanary creates a Canary (and its namespace if needed) without a status
// and returns its simulator once Prometheus has scraped it in phase Unknown.
//
// The wait matters: the lifecycle alerts fire on a phase Prometheus saw
// the canary enter (min_over_time(...) == 0 or an increase of the
// transitions counter). A canary the exporter first sees already
// Initialized is, by design, an old canary and announces nothing.
func (s *Stack) AddCanary(t testing.TB, namespace, name, target string) *sim.Canary {
	t.Helper()
	s.ensureNamespace(t, namespace)
	s.Cluster.CreateCanary(t, namespace, name, target)
	s.WaitQuery(t, 30*time.Second, fmt.Sprintf(`flagger_canary_status_phase{namespace=%q, canary=%q, phase="Unknown"} == 1`, namespace, name), 1)
	return sim.New(s.Cluster.Dynamic, namespace, name)
}

// ensureNamespace creates namespace unless it exists: several canaries may
// share one.
func (s *Stack) ensureNamespace(t testing.TB, namespace string) {
	t.Helper()
	_, err := s.Cluster.Kube.CoreV1().Namespaces().Create(context.Background(), harness.Namespace(namespace), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// WaitQuery polls an instant query until it returns n series.
func (s *Stack) WaitQuery(t testing.TB, timeout time.Duration, query string, n int) []Sample {
	t.Helper()
	var got []Sample
	harness.Eventually(t, timeout, func() string {
		var err error
		if got, err = s.Query(query); err != nil || len(got) != n {
			return fmt.Sprintf("%s: %d series %v (%v), want %d", query, len(got), got, err, n)
		}
		return ""
	})
	return got
}
