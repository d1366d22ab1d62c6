package mixin_test

import (
	"strings"
	"testing"
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
