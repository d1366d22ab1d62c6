package charts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// The release workflow cannot run here (no registry, no GitHub); what can be
// checked is: it runs on a version tag with least privilege, every step is a
// make target that exists, and the targets that need no registry (chart,
// sbom) produce what the release publishes.
func TestReleaseWorkflow(t *testing.T) {
	root := testutil.RepoRoot(t)
	var wf struct {
		On struct {
			Push struct{ Tags []string } `yaml:"push"`
		} `yaml:"on"`
		Permissions map[string]string
		Jobs        map[string]struct {
			Needs       any
			Permissions map[string]string
			Steps       []struct{ Run string }
		}
	}
	if err := yaml.Unmarshal(must(os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yaml"))), &wf); err != nil {
		t.Fatal(err)
	}
	if len(wf.On.Push.Tags) != 1 || wf.On.Push.Tags[0] != "v*.*.*" {
		t.Errorf("the workflow runs on tags %v, want v*.*.*", wf.On.Push.Tags)
	}
	if len(wf.Permissions) != 1 || wf.Permissions["contents"] != "read" {
		t.Errorf("top-level permissions %v, want contents: read only", wf.Permissions)
	}
	if wf.Jobs["publish"].Needs != "test" {
		t.Error("publish does not wait for the tests")
	}
	makefile := string(must(os.ReadFile(filepath.Join(root, "Makefile"))))
	makeRun := regexp.MustCompile(`\bmake ((?:[a-z][a-z-]*\s*)+)`)
	var targets []string
	for name, job := range wf.Jobs {
		for _, s := range job.Steps {
			for _, m := range makeRun.FindAllStringSubmatch(s.Run, -1) {
				for _, target := range strings.Fields(m[1]) {
					if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).MatchString(makefile) {
						t.Errorf("job %s runs make %s: no such target", name, target)
					}
					targets = append(targets, target)
				}
			}
		}
	}
	for _, want := range []string{"test", "lint", "image", "push-image", "chart", "push-chart", "sbom"} {
		if !strings.Contains(" "+strings.Join(targets, " ")+" ", " "+want+" ") {
			t.Errorf("the workflow never runs make %s", want)
		}
	}

	// make chart: version without the tag's v, appVersion the tag (the images').
	out := t.TempDir()
	makeTarget(t, root, "chart", "VERSION=v1.2.3", "CHART_OUT="+out)
	chart, err := helm(t, "show", "chart", filepath.Join(out, "flagger-monitoring-1.2.3.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(chart, "version: 1.2.3") || !strings.Contains(chart, "appVersion: v1.2.3") {
		t.Errorf("make chart VERSION=v1.2.3 packaged:\n%s", chart)
	}
	// make sbom: one CycloneDX document per binary naming its modules.
	sbom := t.TempDir()
	makeTarget(t, root, "sbom", "SBOM_DIR="+sbom)
	for _, b := range []string{"flagger-exporter", "flagger-event-adapter"} {
		var doc struct {
			BOMFormat  string `json:"bomFormat"`
			Components []struct {
				Name string `json:"name"`
			} `json:"components"`
		}
		if err := json.Unmarshal(must(os.ReadFile(filepath.Join(sbom, b+".cdx.json"))), &doc); err != nil {
			t.Fatalf("%s SBOM: %v", b, err)
		}
		var names []string
		for _, c := range doc.Components {
			names = append(names, c.Name)
		}
		if doc.BOMFormat != "CycloneDX" || !strings.Contains(strings.Join(names, " "), "github.com/prometheus/client_golang") {
			t.Errorf("%s SBOM: format %q, components %v", b, doc.BOMFormat, names)
		}
	}
}

func makeTarget(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %v: %v\n%s", args, err, out)
	}
}
