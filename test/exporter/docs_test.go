package exporter_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/exposition"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// readmeRow matches a metric row of docs/exporter.md: | `name` | type | labels | meaning |
var readmeRow = regexp.MustCompile("(?m)^\\| `(flagger_[a-z_]+)` \\| (gauge|counter|histogram) \\|([^|]*)\\|")

// checkDocumented compares docs/exporter.md's metric tables with a real scrape and
// with the families the exposition writes: every flagger_* family exported is
// documented with its type and labels, and nothing documented is missing.
// absentOK names documented families this scrape may lack: those only
// served with a flag or an Event (TestEventsRelay's scrape has them all).
func checkDocumented(t *testing.T, fams map[string]*dto.MetricFamily, absentOK ...string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "docs", "exporter.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][2]string{}
	for _, m := range readmeRow.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = [2]string{m[2], strings.TrimSpace(m[3])}
	}
	exported := map[string]bool{}
	for _, f := range exposition.Families {
		exported[f.Name] = true
	}
	for name, mf := range fams {
		if !strings.HasPrefix(name, "flagger_") {
			continue
		}
		exported[name] = true
		doc, ok := documented[name]
		if !ok {
			continue // reported below
		}
		if typ := strings.ToLower(mf.GetType().String()); typ != doc[0] {
			t.Errorf("docs/exporter.md says %s is a %s, the exporter serves a %s", name, doc[0], typ)
		}
		if len(mf.Metric) > 0 {
			var labels []string
			for _, lp := range mf.Metric[0].Label {
				labels = append(labels, lp.GetName())
			}
			if got, want := sorted(labels), sorted(splitLabels(doc[1])); got != want {
				t.Errorf("docs/exporter.md labels of %s: %q, served: %q", name, want, got)
			}
		}
	}
	for name := range exported {
		if _, ok := documented[name]; !ok {
			t.Errorf("%s is exported but not documented in docs/exporter.md", name)
		}
	}
	for name := range documented {
		if !exported[name] && !slices.Contains(absentOK, name) {
			t.Errorf("docs/exporter.md documents %s, which the exporter does not serve", name)
		}
	}
}

func splitLabels(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func sorted(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return strings.Join(s, ",")
}
