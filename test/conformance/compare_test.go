package conformance_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
	"github.com/flagger-monitoring/flagger-monitoring/test/stack"
)

// The Flagger series compared, as Flagger names and labels them. The
// exporter's carry an extra canary label, which the comparison ignores.
const (
	mStatus        = "flagger_canary_status"
	mWeightPrimary = "flagger_canary_weight{workload=<target>-primary}"
	mWeightCanary  = "flagger_canary_weight{workload=<target>}"
	mTotal         = "flagger_canary_total"
)

var compared = []string{mStatus, mWeightPrimary, mWeightCanary, mTotal}

const absent = "absent"

// values reads the compared series of namespace ns from one scrape.
func values(fams map[string]*dto.MetricFamily, ns string) map[string]string {
	get := func(family string, labels map[string]string) string {
		v := testutil.Values(fams, family, labels)
		switch len(v) {
		case 0:
			return absent
		case 1:
			return strconv.FormatFloat(v[0], 'g', -1, 64)
		}
		return fmt.Sprintf("%d series %v", len(v), v)
	}
	return map[string]string{
		mStatus:        get("flagger_canary_status", map[string]string{"name": target, "namespace": ns}),
		mWeightPrimary: get("flagger_canary_weight", map[string]string{"workload": primary, "namespace": ns}),
		mWeightCanary:  get("flagger_canary_weight", map[string]string{"workload": target, "namespace": ns}),
		mTotal:         get("flagger_canary_total", map[string]string{"namespace": ns}),
	}
}

// differ is an intended difference at a checkpoint: what Flagger shows,
// what the exporter shows instead, and why.
type differ struct{ flagger, ours, why string }

// row is one line of docs/conformance.md.
type row struct {
	step, metric, flagger, ours, verdict string
}

// settle is a checkpoint: Flagger has reached a step and holds it (a gate, a
// hold, or a final phase). Within a few analysis intervals both Flagger's
// own series and the exporter's must agree on every compared series, or
// show exactly the intended differences listed. Flagger writes its metrics
// at the start of each analysis run, so it may trail the Canary status by one
// interval; a settled step outlasts that.
func (r *run) settle(step string, diffs map[string]differ) {
	r.t.Helper()
	var flagger, ours map[string]string
	harness.Eventually(r.t, 3*stepInterval+5*time.Second, func() string {
		ff, err := harness.Scrape(r.t, r.f.MetricsURL)
		if err != nil {
			return err.Error()
		}
		of, err := harness.Scrape(r.t, r.s.ExporterURL+"/metrics")
		if err != nil {
			return err.Error()
		}
		flagger, ours = values(ff, r.ns), values(of, r.ns)
		var bad []string
		for _, m := range compared {
			want := differ{flagger: flagger[m], ours: flagger[m]}
			if d, ok := diffs[m]; ok {
				want = d
			}
			if flagger[m] != want.flagger || ours[m] != want.ours {
				bad = append(bad, fmt.Sprintf("%s: Flagger %s, exporter %s; want Flagger %s, exporter %s", m, flagger[m], ours[m], want.flagger, want.ours))
			}
		}
		if len(bad) > 0 {
			return fmt.Sprintf("%s/%s at %q (status %s):\n  %s", r.ns, canaryName, step, r.s.CanaryStatusText(r.ns, canaryName), strings.Join(bad, "\n  "))
		}
		return ""
	})
	for _, m := range compared {
		verdict := "same"
		if d, ok := diffs[m]; ok {
			verdict = "intended difference: " + d.why
		}
		r.sc.add(row{step, m, flagger[m], ours[m], verdict})
	}
	r.checksum(step)
}

// mChecksum names the checksum row: the checksum field of Flagger's event
// webhook against the exporter's flagger_canary_revision_info.
const mChecksum = "event-webhook checksum vs flagger_canary_revision_info{checksum}"

// checksum holds the exporter's checksum to the one Flagger's latest
// event-webhook post for the canary carried. Flagger hashes the status as it
// is when it posts, and posts before the status write that follows an
// event; only "New revision detected" (Scaling up, or Restarting analysis)
// precedes a write that changes the hash, and the next analysis run posts
// again with the new one, within the wait. A deleted canary has no series
// and no row.
func (r *run) checksum(step string) {
	r.t.Helper()
	var flagger, ours string
	harness.Eventually(r.t, 3*stepInterval, func() string {
		flagger = lastEventChecksum(r.f.Events.Messages(), r.ns, canaryName)
		fams, err := harness.Scrape(r.t, r.s.ExporterURL+"/metrics")
		if err != nil {
			return err.Error()
		}
		ours = absent
		for _, m := range fams["flagger_canary_revision_info"].GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["namespace"] == r.ns && l["canary"] == canaryName {
				ours = l["checksum"]
			}
		}
		if ours != absent && ours != flagger {
			return fmt.Sprintf("%s/%s at %q: the exporter's checksum %s, Flagger's last event %s", r.ns, canaryName, step, ours, flagger)
		}
		return ""
	})
	if ours != absent {
		// The values depend on the pod template's hash; the row says they
		// matched.
		r.sc.add(row{step, mChecksum, "its last post's", "equal", "same"})
	}
}

// lastEventChecksum is the checksum of Flagger's latest event-webhook post
// for namespace/name, or absent.
func lastEventChecksum(posts []stack.Message, namespace, name string) string {
	for i := len(posts) - 1; i >= 0; i-- {
		if e, err := stack.DecodeEvent(posts[i].Body); err == nil && e.Namespace == namespace && e.Name == name {
			return e.Checksum
		}
	}
	return absent
}

// fact checks one exporter series of the canary against the value Flagger
// uses (read off its source), for behaviour Flagger has no metric for.
func (r *run) fact(step, family, want, flaggerSays string) {
	r.t.Helper()
	var got string
	harness.Eventually(r.t, 10*time.Second, func() string {
		fams, err := harness.Scrape(r.t, r.s.ExporterURL+"/metrics")
		if err != nil {
			return err.Error()
		}
		v := testutil.Values(fams, family, map[string]string{"namespace": r.ns, "canary": canaryName})
		got = absent
		if len(v) == 1 {
			got = strconv.FormatFloat(v[0], 'g', -1, 64)
		}
		if got != want {
			return fmt.Sprintf("%s/%s at %q: %s = %s, want %s (%s)", r.ns, canaryName, step, family, got, want, flaggerSays)
		}
		return ""
	})
	r.sc.add(row{step, family, flaggerSays, got, "same"})
}

// stepInterval is Flagger's analysis interval in these scenarios: 10 s, its
// minimum.
const stepInterval = 10 * time.Second

// alerts checks the mixin's alerts on the real controller, as the shipped
// rules evaluate them in the stack's Prometheus: every alert in active must
// become pending or firing for the canary's namespace, and no alert in
// never may have been pending or firing at any time in the scenario. A
// pending alert counts: the rule's expression holds, which is what is
// tested; `for` durations are the user's to choose.
func (r *run) alerts(step string, active, never []string) {
	r.t.Helper()
	seen := func() map[string]bool {
		got, err := r.s.Query(fmt.Sprintf(`max by (alertname) (max_over_time(ALERTS{namespace=%q}[15m]))`, r.ns))
		if err != nil {
			r.t.Fatalf("query ALERTS: %v", err)
		}
		names := map[string]bool{}
		for _, s := range got {
			names[s.Labels["alertname"]] = true
		}
		return names
	}
	harness.Eventually(r.t, 30*time.Second, func() string {
		names := seen()
		for _, a := range active {
			if !names[a] {
				return fmt.Sprintf("%s/%s at %q: alert %s not active; active so far: %v", r.ns, canaryName, step, a, names)
			}
		}
		return ""
	})
	names := seen()
	for _, a := range never {
		if names[a] {
			r.t.Errorf("%s/%s at %q: alert %s was pending or firing", r.ns, canaryName, step, a)
		}
	}
	for _, a := range active {
		r.sc.add(row{step, "ALERTS{alertname=\"" + a + "\"}", "—", "active", "as intended"})
	}
	for _, a := range never {
		r.sc.add(row{step, "ALERTS{alertname=\"" + a + "\"}", "—", "never active", "as intended"})
	}
}

// labels records the label names of flagger_canary_status on both sides:
// the exporter adds canary (the Canary's own name) to Flagger's name and
// namespace, and nothing else.
func (r *run) labels(step string) {
	r.t.Helper()
	names := func(url string) string {
		fams, err := harness.Scrape(r.t, url)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, m := range fams["flagger_canary_status"].GetMetric() {
			var ls []string
			ns := false
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName())
				ns = ns || (l.GetName() == "namespace" && l.GetValue() == r.ns)
			}
			if ns {
				sort.Strings(ls)
				return strings.Join(ls, ", ")
			}
		}
		return absent
	}
	flagger, ours := names(r.f.MetricsURL), names(r.s.ExporterURL+"/metrics")
	if flagger != "name, namespace" || ours != "canary, name, namespace" {
		r.t.Errorf("%s/%s at %q: flagger_canary_status labels: Flagger %s, exporter %s", r.ns, canaryName, step, flagger, ours)
	}
	r.sc.add(row{step, "flagger_canary_status labels", flagger, ours,
		"intended difference: the exporter adds canary, the Canary's own name (name is spec.targetRef.name, as in Flagger)"})
}
