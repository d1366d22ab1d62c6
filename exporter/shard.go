package exporter

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
)

// shard is the shard the flags name: --shard and --total-shards, or the
// ordinal of --pod.
func shard(s kube.Shard, pod string) (kube.Shard, error) {
	if pod == "" {
		return s, s.Validate()
	}
	if s.Index != 0 {
		return kube.Shard{}, fmt.Errorf("--shard %d and --pod %q both name the shard: give one", s.Index, pod)
	}
	return kube.ShardOfPod(pod, s.Total)
}

// registerShard exports the shard as kube-state-metrics does, so a rule can
// check that every shard of a job is scraped (count of ordinals against
// total shards) and that no two claim the same one.
func registerShard(reg prometheus.Registerer, s kube.Shard) {
	constant := func(name, help string, v int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v) })
	}
	reg.MustRegister(
		constant("flagger_exporter_shard_ordinal", "This exporter's shard (--shard, or the ordinal of --pod); 0 when unsharded.", s.Index),
		constant("flagger_exporter_total_shards", "The number of shards the canaries are split into (--total-shards); 1 when unsharded.", max(s.Total, 1)),
	)
}
