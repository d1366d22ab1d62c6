package kube

import (
	"fmt"
	"testing"

	"github.com/go-kit/log"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/store"
)

// The reference C++ implementation's buckets for 1 to 19 buckets, as
// github.com/dgryski/go-jump (kube-state-metrics' hash) tests them: the same
// key lands on the same shard in both exporters.
func TestJumpMatchesReference(t *testing.T) {
	for key, want := range map[uint64][]int{
		0:                  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		1:                  {0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17},
		0xdeadbeef:         {0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16},
		0x0ddc0ffeebadf00d: {0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15},
	} {
		for i, w := range want {
			if got := jump(key, i+1); got != w {
				t.Errorf("jump(%#x, %d) = %d, want %d", key, i+1, got, w)
			}
		}
	}
}

// Every UID has exactly one owner; the shards are near even; going from 4
// to 5 shards moves about a fifth of the canaries, all of them to the new
// shard.
func TestShardOwnership(t *testing.T) {
	const n = 20000
	counts := make([]int, 4)
	moved := 0
	for i := range n {
		uid := types.UID(fmt.Sprintf("6f1c2a9e-%04x-4b6e-9d2f-%012x", i%65536, i))
		owners := 0
		for s := range 4 {
			if (Shard{Index: s, Total: 4}).Owns(uid) {
				owners++
				counts[s]++
				if !(Shard{Index: s, Total: 5}).Owns(uid) {
					moved++
					if !(Shard{Index: 4, Total: 5}).Owns(uid) {
						t.Fatalf("%s moved between old shards going from 4 to 5", uid)
					}
				}
			}
		}
		if owners != 1 {
			t.Fatalf("%s has %d owners among 4 shards, want 1", uid, owners)
		}
	}
	for s, c := range counts {
		if c < n/4*95/100 || c > n/4*105/100 {
			t.Errorf("shard %d owns %d of %d, want within 5%% of %d", s, c, n, n/4)
		}
	}
	if moved < n/5*90/100 || moved > n/5*110/100 {
		t.Errorf("4 → 5 shards moved %d of %d, want about a fifth", moved, n)
	}
	for _, s := range []Shard{{}, {Index: 0, Total: 1}} {
		if !s.Owns("any") || s.Sharded() || s.Keep(nil) != nil {
			t.Errorf("%+v must keep everything", s)
		}
	}
}

func TestShardValidate(t *testing.T) {
	for s, want := range map[Shard]string{
		{Index: 0, Total: 1}:  "",
		{Index: 3, Total: 4}:  "",
		{}:                    "",
		{Index: 4, Total: 4}:  "--shard 4 must be below --total-shards 4 (shards are numbered from 0)",
		{Index: -1, Total: 4}: "--shard -1 and --total-shards 4 must not be negative",
		{Index: 2}:            "--shard 2 needs --total-shards",
	} {
		got := ""
		if err := s.Validate(); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%+v: %q, want %q", s, got, want)
		}
	}
}

func TestShardOfPod(t *testing.T) {
	for _, c := range []struct {
		pod   string
		total int
		want  Shard
		err   string
	}{
		{"flagger-exporter-2", 4, Shard{Index: 2, Total: 4}, ""},
		{"fm-flagger-monitoring-exporter-0", 3, Shard{Index: 0, Total: 3}, ""},
		{"flagger-exporter-4", 4, Shard{}, "--shard 4 must be below --total-shards 4 (shards are numbered from 0)"},
		{"flagger-exporter-7d9f8-x2x4z", 4, Shard{}, `--pod "flagger-exporter-7d9f8-x2x4z": not a StatefulSet pod name (name-<ordinal>)`},
		{"exporter", 4, Shard{}, `--pod "exporter": not a StatefulSet pod name (name-<ordinal>)`},
		{"flagger-exporter-+1", 4, Shard{}, `--pod "flagger-exporter-+1": not a StatefulSet pod name (name-<ordinal>)`},
		{"flagger-exporter-1", 0, Shard{}, `--pod "flagger-exporter-1" needs --total-shards (the StatefulSet's replicas)`},
	} {
		got, err := ShardOfPod(c.pod, c.total)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != c.err || (err == nil && got != c.want) {
			t.Errorf("ShardOfPod(%q, %d) = %+v, %q; want %+v, %q", c.pod, c.total, got, msg, c.want, c.err)
		}
	}
}

func uidObject(uid string) *unstructured.Unstructured {
	u := canaryObject("a", "c-"+uid, "Succeeded")
	u.SetUID(types.UID(uid))
	return u
}

// uidOwnedBy finds a UID the shard owns, and one it does not.
func uidOwnedBy(s Shard, prefix string) (owned, other string) {
	for i := 0; owned == "" || other == ""; i++ {
		uid := fmt.Sprintf("%s-%d", prefix, i)
		if s.Owns(types.UID(uid)) {
			owned = uid
		} else {
			other = uid
		}
	}
	return owned, other
}

// The watch drops other shards' objects but passes bookmarks (a streaming
// list's end) and errors.
func TestFilterDropsOtherShards(t *testing.T) {
	s := Shard{Index: 1, Total: 3}
	owned, other := uidOwnedBy(s, "uid")
	fake := watch.NewFake()
	w := filter(fake, s.Keep(func(u *unstructured.Unstructured) types.UID { return u.GetUID() }), func(error) {})
	go func() {
		fake.Add(uidObject(other))
		fake.Add(uidObject(owned))
		fake.Modify(uidObject(other))
		fake.Action(watch.Bookmark, uidObject(""))
		fake.Delete(uidObject(owned))
		fake.Stop()
	}()
	var got []string
	for e := range w.ResultChan() {
		got = append(got, fmt.Sprintf("%s %s", e.Type, e.Object.(*unstructured.Unstructured).GetUID()))
	}
	want := fmt.Sprint([]string{"ADDED " + owned, "BOOKMARK ", "DELETED " + owned})
	if fmt.Sprint(got) != want {
		t.Errorf("passed %v, want %s", got, want)
	}
}

// Through the informer with a fake client: the list and the watch keep
// this shard's canaries only.
func TestWatcherKeepsItsShard(t *testing.T) {
	s := Shard{Index: 0, Total: 2}
	owned, other := uidOwnedBy(s, "uid")
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{CanaryResource: "CanaryList"}, uidObject(owned), uidObject(other))
	st := store.New()
	w := runWatcher(t, Config{Client: client, Shard: s, Sink: st, Logger: log.NewNopLogger()})
	ctx := t.Context()
	waitFor(t, func() bool { return w.Synced() == nil && st.Len() == 1 })
	// Created after the list: only the owned one arrives.
	newOwned, newOther := uidOwnedBy(s, "later")
	for _, uid := range []string{newOther, newOwned} {
		if _, err := client.Resource(CanaryResource).Namespace("a").Create(ctx, uidObject(uid), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return st.Len() == 2 })
	for _, c := range st.Snapshot() {
		if name := c.Facts.Name; name != "c-"+owned && name != "c-"+newOwned {
			t.Errorf("exported %s, owned by the other shard", name)
		}
	}
}
