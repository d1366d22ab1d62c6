package scale

import (
	"context"
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

const namespaces = 200

var phases = []string{"Initialized", "Succeeded", "Succeeded", "Succeeded", "Progressing", "Waiting", "Failed", "WaitingPromotion"}

// grow adds canaries up to n, spread over 200 namespaces, each with a
// realistic spec (metrics, webhooks) and status, as Flagger leaves them.
func grow(t testing.TB, c *harness.Cluster, from, to int) {
	t.Helper()
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createOne(c, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func namespace(i int) string { return fmt.Sprintf("team-%03d", i%namespaces) }

func createOne(c *harness.Cluster, i int) error {
	ctx := context.Background()
	name := fmt.Sprintf("service-%05d", i)
	u := harness.NewCanary(namespace(i), name, name)
	spec := u.Object["spec"].(map[string]any)
	analysis := spec["analysis"].(map[string]any)
	analysis["metrics"] = []any{
		map[string]any{"name": "request-success-rate", "interval": "1m", "thresholdRange": map[string]any{"min": int64(99)}},
		map[string]any{"name": "request-duration", "interval": "30s", "thresholdRange": map[string]any{"max": int64(500)}},
	}
	analysis["webhooks"] = []any{
		map[string]any{"name": "load-test", "type": "rollout", "url": "http://flagger-loadtester.test/", "timeout": "5s",
			"metadata": map[string]any{"cmd": "hey -z 1m -q 10 -c 2 http://" + name + "-canary." + namespace(i) + "/"}},
	}
	res := c.Dynamic.Resource(kube.CanaryResource).Namespace(namespace(i))
	created, err := res.Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	phase := phases[i%len(phases)]
	status := map[string]any{
		"phase": phase, "failedChecks": int64(0), "canaryWeight": int64(0), "iterations": int64(0),
		"lastAppliedSpec": "5f7b8c9d6", "lastPromotedSpec": "5f7b8c9d6",
		"lastTransitionTime": "2026-11-24T08:00:00Z",
		"conditions": []any{map[string]any{"type": "Promoted", "status": "True", "reason": phase,
			"lastUpdateTime": "2026-11-24T08:00:00Z", "lastTransitionTime": "2026-11-24T08:00:00Z", "message": "Canary analysis completed successfully, promotion finished."}},
	}
	if phase == "Progressing" {
		status["canaryWeight"] = int64(10 * (i % 5))
		status["failedChecks"] = int64(i % 3)
	}
	created.Object["status"] = status
	if _, err := res.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("status %s: %w", name, err)
	}
	return nil
}

// touch changes one canary's failedChecks to v, for the event → metric
// latency measurement.
func touch(c *harness.Cluster, i int, v int64) error {
	ctx := context.Background()
	res := c.Dynamic.Resource(kube.CanaryResource).Namespace(namespace(i))
	u, err := res.Get(ctx, fmt.Sprintf("service-%05d", i), metav1.GetOptions{})
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedField(u.Object, v, "status", "failedChecks"); err != nil {
		return err
	}
	_, err = res.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	return err
}
