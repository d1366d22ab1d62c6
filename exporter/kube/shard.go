package kube

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Shard is the part of the canaries one exporter of a sharded set watches,
// in kube-state-metrics' convention (--shard, --total-shards): an object
// belongs to shard jump(fnv64a(uid), total). The UID never changes for an
// object's life, so every event about it reaches the same shard, and a shard
// that restarts lists exactly the objects it had: no other shard ever takes
// them over, so nothing is exported twice. Because the hash is the same as
// kube-state-metrics', its shards and ours split a cluster the same way.
//
// The zero value and Total 1 are unsharded: everything is kept.
type Shard struct {
	Index, Total int
}

// Validate reports a shard that cannot hold anything.
func (s Shard) Validate() error {
	if s.Total < 0 || s.Index < 0 {
		return fmt.Errorf("--shard %d and --total-shards %d must not be negative", s.Index, s.Total)
	}
	if s.Total > 0 && s.Index >= s.Total {
		return fmt.Errorf("--shard %d must be below --total-shards %d (shards are numbered from 0)", s.Index, s.Total)
	}
	if s.Total == 0 && s.Index != 0 {
		return fmt.Errorf("--shard %d needs --total-shards", s.Index)
	}
	return nil
}

// Sharded reports whether s keeps only part of the objects.
func (s Shard) Sharded() bool { return s.Total > 1 }

// Owns reports whether the object with uid belongs to s.
func (s Shard) Owns(uid types.UID) bool {
	if !s.Sharded() {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(uid))
	return jump(h.Sum64(), s.Total) == s.Index
}

// Keep keeps the objects s owns, by the UID uid reads off each; nil when s
// is unsharded. An object without one (uid returns "") is kept: the Events
// watch reads the Canary's UID off an Event, and the canary lookup behind it
// still drops Events on other shards' canaries.
func (s Shard) Keep(uid func(*unstructured.Unstructured) types.UID) Keep {
	if !s.Sharded() {
		return nil
	}
	return func(u *unstructured.Unstructured) bool {
		id := uid(u)
		return id == "" || s.Owns(id)
	}
}

// ShardOfPod is the shard of a StatefulSet pod: its name's trailing ordinal
// (pod "flagger-exporter-2" is shard 2) out of total. Unlike
// kube-state-metrics' automatic sharding, total is not read from the
// StatefulSet: that would need read access to pods and statefulsets, and
// the chart passes its replica count anyway.
func ShardOfPod(pod string, total int) (Shard, error) {
	i := strings.LastIndexByte(pod, '-')
	ordinal := pod[i+1:]
	n, err := strconv.Atoi(ordinal)
	if i < 0 || err != nil || strings.Trim(ordinal, "0123456789") != "" {
		return Shard{}, fmt.Errorf("--pod %q: not a StatefulSet pod name (name-<ordinal>)", pod)
	}
	if total < 1 {
		return Shard{}, fmt.Errorf("--pod %q needs --total-shards (the StatefulSet's replicas)", pod)
	}
	s := Shard{Index: n, Total: total}
	return s, s.Validate()
}

// jump is Lamping and Veach's jump consistent hash ("A Fast, Minimal Memory,
// Consistent Hash Algorithm", 2014), as github.com/dgryski/go-jump, which
// kube-state-metrics uses: the bucket in [0, buckets) of key. Growing from n
// to n+1 buckets moves only 1/(n+1) of the keys.
func jump(key uint64, buckets int) int {
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
