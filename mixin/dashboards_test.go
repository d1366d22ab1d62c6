package mixin_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The uids are part of the interface: links, bookmarks and the fleet table's
// data links use them, so they never change.
var dashboardUIDs = map[string]string{
	"flagger-canaries.json": "flagger-canaries",
	"flagger-canary.json":   "flagger-canary",
}

const datasourceUID = "${datasource}"

func TestDashboardConventions(t *testing.T) {
	dashboards := loadDashboards(t)
	if len(dashboards) != len(dashboardUIDs) {
		t.Errorf("%d dashboards, want %d", len(dashboards), len(dashboardUIDs))
	}
	uids := map[string]string{}
	for _, d := range dashboards {
		uid := str(d.JSON, "uid")
		if want, ok := dashboardUIDs[d.File]; !ok || uid != want {
			t.Errorf("%s: uid %q, want the stable %q", d.File, uid, want)
		}
		if other, dup := uids[uid]; dup {
			t.Errorf("%s: uid %q already used by %s", d.File, uid, other)
		}
		uids[uid] = d.File
		if len(uid) > 40 {
			t.Errorf("%s: uid longer than Grafana's 40 characters", d.File)
		}
		if !strings.HasPrefix(str(d.JSON, "title"), "Flagger / ") {
			t.Errorf("%s: title %q not under \"Flagger / \"", d.File, str(d.JSON, "title"))
		}
		if v, _ := d.JSON["schemaVersion"].(float64); v < 39 {
			t.Errorf("%s: schemaVersion %v, want 39 or later", d.File, d.JSON["schemaVersion"])
		}
		if tags, _ := d.JSON["tags"].([]any); len(tags) == 0 {
			t.Errorf("%s: no tags", d.File)
		}
		checkVariables(t, d)
		checkPanels(t, d)
	}
}

// With showMultiCluster the dashboards have a visible cluster variable and
// every query reads one cluster: each selector of every panel and of every
// other variable matches cluster="$cluster". The cluster variable itself
// lists every cluster (a query of its own on $cluster would find none on
// first load, when it is still empty).
func TestDashboardsMultiCluster(t *testing.T) {
	v := renderVariant(t, multiClusterConfig)
	dashboards := v.dashboards()
	if len(dashboards) != len(dashboardUIDs) {
		t.Errorf("%d dashboards, want %d", len(dashboards), len(dashboardUIDs))
	}
	const clusterVar = "__cluster_variable__"
	selects := func(where, expr string) {
		t.Helper()
		e, err := promqlParser.ParseExpr(substituteGrafanaVariables(strings.ReplaceAll(expr, "$cluster", clusterVar)))
		if err != nil {
			t.Errorf("%s: %v\n%s", where, err, expr)
			return
		}
		n := 0
		parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			n++
			for _, m := range vs.LabelMatchers {
				if m.Name == "cluster" && m.Type == labels.MatchEqual && m.Value == clusterVar {
					return nil
				}
			}
			t.Errorf("%s: %s does not select cluster=\"$cluster\"\n%s", where, vs, expr)
			return nil
		})
		if n == 0 {
			t.Errorf("%s: no selector\n%s", where, expr)
		}
	}
	for _, d := range dashboards {
		checkPanels(t, d)
		var names []string
		for _, vr := range d.variables() {
			name := str(vr, "name")
			names = append(names, name)
			if str(vr, "type") != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(str(vr, "query"))
			if m == nil {
				t.Errorf("%s variable %s: query %q is not label_values(selector, label)", d.File, name, str(vr, "query"))
				continue
			}
			if name != "cluster" {
				selects(d.File+" variable "+name, m[1])
				continue
			}
			if h, _ := vr["hide"].(float64); h != 0 {
				t.Errorf("%s: cluster variable hidden (hide %v) with showMultiCluster", d.File, vr["hide"])
			}
			if m[2] != "cluster" || strings.Contains(m[1], "$cluster") {
				t.Errorf("%s: cluster variable %q: want the values of the cluster label, not filtered by itself", d.File, str(vr, "query"))
			}
		}
		// Grafana resolves variables in order: cluster before the ones
		// that read it.
		if len(names) < 3 || names[0] != "datasource" || names[1] != "cluster" {
			t.Errorf("%s: variables %v, want datasource, cluster first", d.File, names)
		}
		for _, p := range d.panels() {
			for _, tg := range targets(p) {
				selects(d.File+" panel "+strconv.Quote(str(p, "title"))+" target "+str(tg, "refId"), str(tg, "expr"))
			}
		}
	}
}

func checkVariables(t *testing.T, d dashboard) {
	t.Helper()
	byName := map[string]map[string]any{}
	for _, v := range d.variables() {
		name := str(v, "name")
		byName[name] = v
		if str(v, "type") != "query" {
			continue
		}
		if str(v, "datasource", "uid") != datasourceUID {
			t.Errorf("%s variable %s: datasource %v, want the datasource variable", d.File, name, v["datasource"])
		}
		// 2: refresh on time range change, so canaries that come and go show up.
		if r, _ := v["refresh"].(float64); r != 2 {
			t.Errorf("%s variable %s: refresh %v, want 2 (on time range change)", d.File, name, v["refresh"])
		}
	}
	if ds := byName["datasource"]; ds == nil || str(ds, "type") != "datasource" || str(ds, "query") != "prometheus" {
		t.Errorf("%s: no Prometheus datasource variable", d.File)
	}
	for _, name := range []string{"cluster", "namespace", "canary"} {
		if byName[name] == nil {
			t.Errorf("%s: no %s variable", d.File, name)
		}
	}
	// Hidden unless showMultiCluster (off by default).
	if c := byName["cluster"]; c != nil {
		if h, _ := c["hide"].(float64); h != 2 {
			t.Errorf("%s: cluster variable visible (hide %v) with showMultiCluster off", d.File, c["hide"])
		}
	}
}

func checkPanels(t *testing.T, d dashboard) {
	t.Helper()
	ids := map[float64]bool{}
	for _, p := range d.panels() {
		title := str(p, "title")
		id, _ := p["id"].(float64)
		if ids[id] {
			t.Errorf("%s: panel id %v used twice", d.File, id)
		}
		ids[id] = true
		if _, ok := p["gridPos"].(map[string]any); !ok {
			t.Errorf("%s panel %q: no gridPos", d.File, title)
		}
		if str(p, "type") == "row" {
			continue
		}
		if title == "" {
			t.Errorf("%s: panel %v without a title", d.File, id)
		}
		if str(p, "description") == "" {
			t.Errorf("%s panel %q: no description", d.File, title)
		}
		if str(p, "fieldConfig", "defaults", "unit") == "" {
			t.Errorf("%s panel %q: no unit", d.File, title)
		}
		if str(p, "datasource", "uid") != datasourceUID {
			t.Errorf("%s panel %q: datasource %v, want the datasource variable", d.File, title, p["datasource"])
		}
		ts := targets(p)
		if len(ts) == 0 {
			t.Errorf("%s panel %q: no queries", d.File, title)
		}
		refIDs := map[string]bool{}
		for _, tg := range ts {
			if str(tg, "datasource", "uid") != datasourceUID {
				t.Errorf("%s panel %q target %s: datasource %v, want the datasource variable", d.File, title, str(tg, "refId"), tg["datasource"])
			}
			if r := str(tg, "refId"); r == "" || refIDs[r] {
				t.Errorf("%s panel %q: missing or repeated refId %q", d.File, title, r)
			} else {
				refIDs[r] = true
			}
		}
	}
}
