package amconfig

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/client_golang/prometheus"
)

// muted asks Alertmanager's inhibitor, loaded with the example's rules and
// the given active alerts, whether target is muted.
func muted(t *testing.T, active []*alert.Alert, target *alert.Alert) bool {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	provider, err := mem.NewAlerts(context.Background(), time.Hour, 0, nil, log, eventrecorder.NopRecorder(), prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer provider.Close()
	if err := provider.Put(context.Background(), append(active, target)...); err != nil {
		t.Fatal(err)
	}
	ih := inhibit.NewInhibitor(provider, loadConfig(t).InhibitRules, log, eventrecorder.NopRecorder())
	go ih.Run()
	defer ih.Stop()
	ih.WaitForLoading()
	return ih.Mutes(context.Background(), target.Labels)
}

func TestInhibition(t *testing.T) {
	lc := lifecycleAlerts("podinfo", "test")
	exporterDown := exporterAlert("FlaggerExporterDown", "critical")
	notSynced := exporterAlert("FlaggerExporterNotSynced", "warning")
	otherCluster := rolledBack("podinfo", "test")
	otherCluster.Labels["cluster"] = "prod-us"
	singleClusterDown := exporterAlert("FlaggerExporterDown", "critical")
	delete(singleClusterDown.Labels, "cluster")
	singleClusterStep := lifecycleAlerts("podinfo", "test")["FlaggerCanaryNewRevision"]
	delete(singleClusterStep.Labels, "cluster")
	exporterRollback := flaggerRollback("podinfo", "test")
	exporterRollback.Labels["canary"] = "podinfo"
	exporterRollback.Labels["job"] = "flagger-exporter"
	critical := problem("FlaggerCanaryRolledBack", "critical", "podinfo", "test", map[string]string{"name": "podinfo"})
	criticalOther := problem("FlaggerCanaryRolledBack", "critical", "frontend", "test", nil)

	cases := []struct {
		name   string
		active []*alert.Alert
		target *alert.Alert
		want   bool
	}{
		// A blind exporter mutes per-canary alerts of its cluster ...
		{"exporter down mutes a problem", []*alert.Alert{exporterDown}, rolledBack("podinfo", "test"), true},
		{"exporter down mutes a lifecycle step", []*alert.Alert{exporterDown}, lc["FlaggerCanaryNewRevision"], true},
		{"not synced mutes a problem", []*alert.Alert{notSynced}, problem("FlaggerCanaryProgressDeadlineExceeded", "critical", "podinfo", "test", nil), true},
		{"exporter down mutes not synced", []*alert.Alert{exporterDown}, notSynced, true},
		{"single cluster, no cluster label", []*alert.Alert{singleClusterDown}, singleClusterStep, true},
		// ... but not another cluster's, nor Flagger's own canary_rollback.
		{"exporter down, other cluster", []*alert.Alert{exporterDown}, otherCluster, false},
		{"exporter down keeps canary_rollback", []*alert.Alert{exporterDown}, flaggerRollback("podinfo", "test"), false},
		{"not synced does not mute exporter down", []*alert.Alert{notSynced}, exporterDown, false},

		// The mixin's rollback alert mutes canary_rollback of the same
		// workload, whichever job exported it.
		{"rolled back mutes Flagger's canary_rollback", []*alert.Alert{rolledBack("podinfo", "test")}, flaggerRollback("podinfo", "test"), true},
		{"rolled back mutes the exporter's canary_rollback", []*alert.Alert{rolledBack("podinfo", "test")}, exporterRollback, true},
		{"rolled back, other workload", []*alert.Alert{rolledBack("podinfo", "test")}, flaggerRollback("frontend", "test"), false},
		{"rolled back, other namespace", []*alert.Alert{rolledBack("podinfo", "test")}, flaggerRollback("podinfo", "prod"), false},
		// Lifecycle steps feed the event adapter: problems never mute them.
		{"rolled back keeps the Failed step", []*alert.Alert{rolledBack("podinfo", "test"), critical}, lc["FlaggerCanaryFailed"], false},

		// Critical mutes warning of the same alert and canary only.
		{"critical mutes warning", []*alert.Alert{critical}, rolledBack("podinfo", "test"), true},
		{"critical, other canary", []*alert.Alert{criticalOther}, rolledBack("podinfo", "test"), false},
		{"warning does not mute critical", []*alert.Alert{rolledBack("podinfo", "test")}, critical, false},
	}
	for _, c := range cases {
		if got := muted(t, c.active, c.target); got != c.want {
			t.Errorf("%s: muted = %v, want %v", c.name, got, c.want)
		}
	}
}
