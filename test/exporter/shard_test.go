package exporter_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

const shards = 4

// TestShards runs four exporter processes as four shards of one fleet
// against the real API server: each exports exactly the canaries
// kube-state-metrics' hash of the UID gives it, none twice, none lost; while
// one shard is down and canaries come and go, the others do not change
// what they export, and the restarted shard exports exactly its own. Shard 3
// finds its ordinal in a StatefulSet pod name (--pod).
func TestShards(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t, harness.CanaryCRD())
	createNamespaces(t, c, "team-a", "team-b")
	uids := map[string]types.UID{} // namespace/name → UID, what exists
	create := func(from, to int) {
		for i := from; i < to; i++ {
			ns := []string{"team-a", "team-b"}[i%2]
			u := c.CreateCanary(t, ns, fmt.Sprintf("app-%03d", i), "app")
			uids[ns+"/"+u.GetName()] = u.GetUID()
		}
	}
	create(0, 120)

	start := func(i int) *exporter {
		if i == 3 {
			return startExporter(t, c.Kubeconfig, "--pod", "flagger-exporter-3", "--total-shards", strconv.Itoa(shards))
		}
		return startExporter(t, c.Kubeconfig, "--shard", strconv.Itoa(i), "--total-shards", strconv.Itoa(shards))
	}
	exporters := make([]*exporter, shards)
	for i := range exporters {
		exporters[i] = start(i)
		exporters[i].waitReady(t)
	}
	// owned is what shard i must export now.
	owned := func(i int) []string {
		var keys []string
		for key, uid := range uids {
			if (kube.Shard{Index: i, Total: shards}).Owns(uid) {
				keys = append(keys, key)
			}
		}
		slices.Sort(keys)
		return keys
	}
	check := func(i int, what string) {
		t.Helper()
		exporters[i].expect(t, fmt.Sprintf("shard %d %s", i, what), func(f map[string]*dto.MetricFamily) string {
			got := exported(f)
			if w := owned(i); !slices.Equal(got, w) {
				return fmt.Sprintf("exports %d canaries, want %d: %s", len(got), len(w), diff(got, w))
			}
			return all(
				want(f, "flagger_exporter_shard_ordinal", nil, float64(i)),
				want(f, "flagger_exporter_total_shards", nil, shards),
			)
		})
	}
	total := 0
	for i := range exporters {
		check(i, "at start")
		total += len(owned(i))
		if n := len(owned(i)); n < 15 {
			t.Errorf("shard %d owns %d of 120: the split is far from even", i, n)
		}
	}
	if total != len(uids) {
		t.Fatalf("shards own %d canaries in all, want %d", total, len(uids))
	}

	// Shard 2 goes down; canaries are created and deleted meanwhile.
	exporters[2].Stop()
	create(120, 160)
	for _, key := range slices.Sorted(maps.Keys(uids))[:20] {
		ns, name, _ := strings.Cut(key, "/")
		if err := c.Dynamic.Resource(kube.CanaryResource).Namespace(ns).Delete(context.Background(), name, deleteOptions()); err != nil {
			t.Fatal(err)
		}
		delete(uids, key)
	}
	for _, i := range []int{0, 1, 3} {
		check(i, "while shard 2 is down")
	}
	exporters[2] = start(2)
	exporters[2].waitReady(t)
	for i := range exporters {
		check(i, "after shard 2 restarted")
	}

	// Events follow their canary's UID: the latest-step series appears on
	// the owning shard only.
	ns, name, _ := strings.Cut(owned(1)[0], "/")
	clientset := kubernetes.NewForConfigOrDie(c.Config)
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: clientset.CoreV1().Events("")})
	defer b.Shutdown()
	rec := b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "flagger"})
	rec.Event(c.GetCanary(t, ns, name), corev1.EventTypeNormal, "Synced", fmt.Sprintf("Advance %s.%s canary weight 10", name, ns))
	exporters[1].expect(t, "the step on shard 1", func(f map[string]*dto.MetricFamily) string {
		if n := len(f["flagger_canary_last_step_timestamp_seconds"].GetMetric()); n != 1 {
			return fmt.Sprintf("%d latest-step series, want 1", n)
		}
		return ""
	})
	time.Sleep(time.Second) // the others had the same time to see it
	for _, i := range []int{0, 2, 3} {
		f, err := harness.Scrape(t, exporters[i].url+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f["flagger_canary_last_step_timestamp_seconds"].GetMetric()); n != 0 {
			t.Errorf("shard %d exports %d latest-step series of shard 1's canary", i, n)
		}
	}
}

// exported lists the namespace/name of every canary with a status series.
func exported(f map[string]*dto.MetricFamily) []string {
	var keys []string
	for _, m := range f["flagger_canary_status"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		keys = append(keys, l["namespace"]+"/"+l["canary"])
	}
	slices.Sort(keys)
	return keys
}

// diff names what got lacks and what it has too many of.
func diff(got, want []string) string {
	missing := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return slices.Contains(got, k) })
	extra := slices.DeleteFunc(slices.Clone(got), func(k string) bool { return slices.Contains(want, k) })
	return fmt.Sprintf("missing %v, extra %v", missing, extra)
}
