package exporter_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// The faults below each end with the exporter's metrics right again within
// recoverWithin of the fault being over, with no stale or doubled series.
const recoverWithin = 5 * time.Second

// TestWatchExpiredRelist: while the exporter is cut off, canaries change,
// etcd is compacted and the API server restarts, so the exporter's resource
// version is gone from both etcd and the watch cache. Its watch gets 410 Gone
// and it relists: the change, the deletion and the new canary all show.
func TestWatchExpiredRelist(t *testing.T) {
	c := twoCanaries(t)
	link := c.NewLink(t)
	e := startExporter(t, c.WriteKubeconfig(t, "exporter-link", link.Config(c.Config)))
	e.waitReady(t)
	e.expect(t, "before the cut", func(f map[string]*dto.MetricFamily) string {
		return all(
			want(f, "flagger_canary_weight", ids("test", "a", "workload", "a"), 20),
			want(f, "flagger_canary_status", ids("test", "b", "name", "b"), 1),
		)
	})
	expired := e.counter(t, "flagger_exporter_watch_errors_total", "reason", "expired")
	// client-go treats a watch cut within a second of its start as a
	// failure and relists at once (a list no older than its resource
	// version, which never expires); an established watch that ends is
	// resumed from its resource version instead, which is what expires.
	time.Sleep(1500 * time.Millisecond)

	link.Cut()
	c.SetCanaryStatus(t, c.GetCanary(t, "test", "a"), map[string]any{"phase": "Failed", "canaryWeight": int64(0), "failedChecks": int64(5)})
	if err := c.Dynamic.Resource(kube.CanaryResource).Namespace("test").Delete(t.Context(), "b", deleteOptions()); err != nil {
		t.Fatal(err)
	}
	c.CreateCanary(t, "test", "c", "c")
	rev := c.CompactEtcd(t)
	c.StopAPIServer(t)
	c.StartAPIServer(t)
	link.Restore()

	took := e.expectWithin(t, recoverWithin, "after the relist", func(f map[string]*dto.MetricFamily) string {
		if n := series(f, "test", "b"); n != 0 {
			return fmt.Sprintf("deleted canary b still has %d series", n)
		}
		return all(
			want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 2),
			want(f, "flagger_canary_weight", ids("test", "a", "workload", "a"), 0),
			want(f, "flagger_canary_status", ids("test", "c", "name", "c"), 1),
			want(f, "flagger_canary_total", map[string]string{"namespace": "test"}, 2),
		)
	})
	if got := e.counter(t, "flagger_exporter_watch_errors_total", "reason", "expired"); got <= expired {
		t.Errorf("no 410 Gone counted (expired %v before, %v after): the exporter did not relist from an expired resource version", expired, got)
	}
	t.Logf("etcd compacted at revision %d; metrics right %v after the link came back", rev, took.Round(time.Millisecond))
}

// TestRBACRevokedAndRestored: the exporter's ClusterRoleBinding is deleted
// and its watch re-established (as when a watch times out), so it is
// refused; the canary changes meanwhile. The exporter keeps serving what it
// knew, reports the refusal with its fix, and shows the change within
// recoverWithin of the binding coming back.
func TestRBACRevokedAndRestored(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	createNamespaces(t, c, "test", "monitoring")
	a := c.CreateCanary(t, "test", "a", "a")
	grantExporter(t, c, "monitoring", "flagger-exporter")
	link := c.NewLink(t)
	e := startExporter(t, c.WriteKubeconfig(t, "exporter-sa", link.Config(c.AsServiceAccount("monitoring", "flagger-exporter"))))
	e.waitReady(t)
	e.expect(t, "granted", func(f map[string]*dto.MetricFamily) string {
		return want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 1)
	})

	rbac := c.Kube.RbacV1().ClusterRoleBindings()
	if err := rbac.Delete(t.Context(), "flagger-exporter", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The open watch outlives the revocation; the next one is refused.
	link.Cut()
	link.Restore()
	e.expect(t, "refused", func(f map[string]*dto.MetricFamily) string {
		if v := testutil.Values(f, "flagger_exporter_watch_errors_total", map[string]string{"reason": "forbidden"}); len(v) != 1 || v[0] < 2 {
			return fmt.Sprintf("forbidden watch errors %v", v)
		}
		// What it knew stays: nothing says the canary changed.
		return want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 1)
	})
	c.SetCanaryStatus(t, a, map[string]any{"phase": "Failed", "failedChecks": int64(3)})
	// Refused for a while: client-go's own backoff would have grown past
	// recoverWithin by now (0.8, 1.6, 3.2, 6.4 s, each with up to 100% jitter).
	time.Sleep(8 * time.Second)

	if _, err := rbac.Create(t.Context(), exporterBinding("monitoring", "flagger-exporter"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	took := e.expectWithin(t, recoverWithin, "after the grant", func(f map[string]*dto.MetricFamily) string {
		return all(
			want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 2),
			want(f, "flagger_canary_total", map[string]string{"namespace": "test"}, 1),
		)
	})
	if n := strings.Count(e.Output(), "grant get, list and watch on canaries"); n != 1 {
		t.Errorf("the refusal and its fix logged %d times, want once", n)
	}
	t.Logf("metrics right %v after the binding came back", took.Round(time.Millisecond))
}

// TestCRDDeletedAndRecreated: deleting Flagger's CRD deletes every canary;
// their series go. Recreated, the CRD and its canaries show again. Also when
// the exporter was cut off while the CRD went, so it never saw the
// deletions: the missing CRD itself tells it no canary exists.
func TestCRDDeletedAndRecreated(t *testing.T) {
	for _, cut := range []bool{false, true} {
		t.Run(fmt.Sprintf("cut_off=%v", cut), func(t *testing.T) {
			c := harness.Start(t)
			c.InstallCRDs(t, harness.CanaryCRD())
			createNamespaces(t, c, "test")
			c.CreateCanary(t, "test", "a", "a")
			c.CreateCanary(t, "test", "b", "b")
			link := c.NewLink(t)
			e := startExporter(t, c.WriteKubeconfig(t, "exporter-link", link.Config(c.Config)))
			e.waitReady(t)
			e.expect(t, "before", func(f map[string]*dto.MetricFamily) string {
				return want(f, "flagger_canary_total", map[string]string{"namespace": "test"}, 2)
			})

			if cut {
				link.Cut()
			}
			start := time.Now()
			deleteCRD(t, c, "canaries.flagger.app")
			link.Restore()
			deleting := time.Since(start)
			took := e.expectWithin(t, recoverWithin, "CRD gone", func(f map[string]*dto.MetricFamily) string {
				if n := series(f, "test", "a") + series(f, "test", "b"); n != 0 {
					return fmt.Sprintf("%d series of deleted canaries", n)
				}
				if v := testutil.Values(f, "flagger_exporter_watch_errors_total", map[string]string{"reason": "crd_missing"}); len(v) != 1 || v[0] < 1 {
					return "the missing CRD is not reported"
				}
				return ""
			})
			t.Logf("series gone %v after the CRD was (its deletion took %v)", took.Round(time.Millisecond), deleting.Round(time.Millisecond))

			c.InstallCRDs(t, harness.CanaryCRD())
			c.CreateCanary(t, "test", "a", "a")
			took = e.expectWithin(t, recoverWithin, "CRD back", func(f map[string]*dto.MetricFamily) string {
				if n := series(f, "test", "b"); n != 0 {
					return "canary b came back"
				}
				return all(
					want(f, "flagger_canary_status", ids("test", "a", "name", "a"), 1),
					want(f, "flagger_canary_total", map[string]string{"namespace": "test"}, 1),
				)
			})
			if e.Exited() {
				t.Fatal("exporter exited")
			}
			t.Logf("canary exported %v after the CRD and canary were recreated", took.Round(time.Millisecond))
		})
	}
}

// grantExporter gives the ServiceAccount what deploy/exporter/rbac.yaml
// gives it: read canaries and events.
func grantExporter(t *testing.T, c *harness.Cluster, namespace, name string) {
	t.Helper()
	ctx := t.Context()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"flagger.app"}, Resources: []string{"canaries"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
		},
	}
	if _, err := c.Kube.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kube.RbacV1().ClusterRoleBindings().Create(ctx, exporterBinding(namespace, name), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func exporterBinding(namespace, name string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: namespace, Name: name}},
	}
}

// deleteCRD deletes a CRD and waits until it and its objects are gone.
func deleteCRD(t *testing.T, c *harness.Cluster, name string) {
	t.Helper()
	crds := c.APIExt.ApiextensionsV1().CustomResourceDefinitions()
	if err := crds.Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 30*time.Second, func() string {
		if _, err := crds.Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("CRD %s not gone yet: %v", name, err)
		}
		return ""
	})
}
