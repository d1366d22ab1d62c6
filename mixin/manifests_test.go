package mixin_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// kubectl apply (client-side) stores the object in an annotation, and all
// annotations of an object together must stay under 256 KiB.
const maxManifestBytes = 256 << 10

var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec      yaml.Node         `yaml:"spec"` // decoded by kind
	Data      map[string]string `yaml:"data"`
	Resources []string          `yaml:"resources"`
}

// The kubectl manifests are a kustomization of one PrometheusRule holding
// every rule group, one labelled ConfigMap per dashboard and the
// AlertmanagerConfig. (test/manifests applies them to a real API server.)
func TestManifests(t *testing.T) {
	dir := repoPath(t, manifestsDir)
	var kustomization object
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kustomization)
	if kustomization.APIVersion != "kustomize.config.k8s.io/v1beta1" || kustomization.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: %s %s", kustomization.APIVersion, kustomization.Kind)
	}
	var others []string
	for _, f := range files(t, manifestsDir, "*.yaml") {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			others = append(others, b)
		}
	}
	resources := append([]string(nil), kustomization.Resources...)
	sort.Strings(resources)
	if !reflect.DeepEqual(resources, others) {
		t.Errorf("kustomization resources %v, want every manifest %v", kustomization.Resources, others)
	}

	var ruleObjects, dashboardObjects int
	for _, name := range kustomization.Resources {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil {
			t.Fatal(err)
		} else if fi.Size() > maxManifestBytes {
			t.Errorf("%s: %d bytes, too large for `kubectl apply` (256 KiB)", name, fi.Size())
		}
		var o object
		readYAML(t, path, &o)
		if !dns1123Subdomain.MatchString(o.Metadata.Name) || len(o.Metadata.Name) > 253 {
			t.Errorf("%s: invalid name %q", name, o.Metadata.Name)
		}
		if o.Metadata.Namespace == "" {
			t.Errorf("%s: no namespace", name)
		}
		switch {
		case o.APIVersion == "monitoring.coreos.com/v1" && o.Kind == "PrometheusRule":
			ruleObjects++
			checkPrometheusRule(t, name, o)
		case o.APIVersion == "v1" && o.Kind == "ConfigMap":
			dashboardObjects++
			checkDashboardConfigMap(t, name, o)
		case o.APIVersion == "monitoring.coreos.com/v1alpha1" && o.Kind == "AlertmanagerConfig":
			// Rendered from mixin/alertmanager/ and tested there.
		default:
			t.Errorf("%s: unexpected %s %s", name, o.APIVersion, o.Kind)
		}
	}
	if ruleObjects != 1 || dashboardObjects != len(dashboardUIDs) {
		t.Errorf("%d PrometheusRules and %d dashboard ConfigMaps, want 1 and %d", ruleObjects, dashboardObjects, len(dashboardUIDs))
	}
}

// The PrometheusRule holds exactly the groups of the rule files, and they
// pass promtool as a rule file of their own.
func checkPrometheusRule(t *testing.T, name string, o object) {
	t.Helper()
	var spec ruleFile
	if err := o.Spec.Decode(&spec); err != nil {
		t.Fatalf("%s: spec: %v", name, err)
	}
	var want []ruleGroup
	for _, f := range files(t, rulesDir, "*.yaml") {
		var rf ruleFile
		readYAML(t, f, &rf)
		want = append(want, rf.Groups...)
	}
	sortGroups := func(gs []ruleGroup) {
		sort.Slice(gs, func(i, j int) bool { return gs[i].Name < gs[j].Name })
	}
	got := append([]ruleGroup(nil), spec.Groups...)
	sortGroups(got)
	sortGroups(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: spec.groups differ from the groups of %s/*.yaml", name, rulesDir)
	}
	b, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "prometheusrule-spec.yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, testutil.RepoRoot(t), nil, testutil.Tool(t, "promtool"), "check", "rules", f)
}

// A dashboard ConfigMap carries the sidecar's label and the dashboard file,
// byte for byte.
func checkDashboardConfigMap(t *testing.T, name string, o object) {
	t.Helper()
	if o.Metadata.Labels["grafana_dashboard"] != "1" {
		t.Errorf("%s: no grafana_dashboard: \"1\" label: %v", name, o.Metadata.Labels)
	}
	if len(o.Data) != 1 {
		t.Fatalf("%s: %d data keys, want one dashboard", name, len(o.Data))
	}
	for key, content := range o.Data {
		if _, ok := dashboardUIDs[key]; !ok {
			t.Errorf("%s: data key %s is no dashboard", name, key)
			continue
		}
		file, err := os.ReadFile(repoPath(t, dashboardsDir, key))
		if err != nil {
			t.Fatal(err)
		}
		if content != string(file) {
			t.Errorf("%s: data %s differs from %s/%s", name, key, dashboardsDir, key)
		}
	}
}
