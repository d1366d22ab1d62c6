package manifests_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/yaml"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// chartNamespaces are the namespaces the chart's values files write to
// besides monitoringNamespace: exporter.namespaces of namespaced.yaml and
// the namespace of Flagger's PodMonitor.
var chartNamespaces = []string{"team-a", "team-b", "flagger-system"}

// testChart dry-runs the Helm chart, rendered with each values file of
// charts/testdata and with the Flux example's values, against the API
// server with prometheus-operator's CRDs (strict validation: an unknown
// field is an error), and the kustomize example with its remote bases
// pointed at this checkout.
func testChart(t *testing.T, c *harness.Cluster) {
	root := testutil.RepoRoot(t)
	chart := filepath.Join(root, "charts", "flagger-monitoring")
	for _, ns := range chartNamespaces {
		createNamespace(t, c, ns)
	}
	helm := func(t *testing.T, args ...string) []byte {
		t.Helper()
		return []byte(run(t, root, testutil.Tool(t, "helm"), append([]string{"template", "flagger-monitoring", chart, "-n", monitoringNamespace}, args...)...))
	}
	files, err := filepath.Glob(filepath.Join(root, "charts", "testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in charts/testdata: %v", err)
	}
	for _, f := range append([]string{""}, files...) {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if f == "" {
			name = "defaults"
		}
		t.Run("helm chart "+name, func(t *testing.T) {
			var args []string
			if f != "" {
				args = []string{"-f", f}
			}
			out := accept(t, c, helm(t, args...), "-f", "-", "-o", "name")
			if !strings.Contains(out, "prometheusrule.monitoring.coreos.com/flagger-monitoring") || !strings.Contains(out, "deployment.apps/flagger-monitoring-exporter") && !strings.Contains(out, "statefulset.apps/flagger-monitoring-exporter") {
				t.Errorf("the chart applied:\n%s", out)
			}
		})
	}

	t.Run("flux example", func(t *testing.T) {
		docs := strings.Split(string(readFile(t, filepath.Join(root, "examples", "flux", "helmrelease.yaml"))), "\n---\n")
		if len(docs) != 2 {
			t.Fatalf("examples/flux/helmrelease.yaml: %d documents, want OCIRepository and HelmRelease", len(docs))
		}
		// Flux's CRDs are not served here: the objects are checked against
		// Flux's own API types instead (unknown fields are errors).
		var repo sourcev1.OCIRepository
		var hr helmv2.HelmRelease
		if err := yaml.UnmarshalStrict([]byte(docs[0]), &repo); err != nil {
			t.Fatalf("OCIRepository: %v", err)
		}
		if err := yaml.UnmarshalStrict([]byte(docs[1]), &hr); err != nil {
			t.Fatalf("HelmRelease: %v", err)
		}
		if repo.Kind != sourcev1.OCIRepositoryKind || repo.APIVersion != sourcev1.GroupVersion.String() || hr.APIVersion != helmv2.GroupVersion.String() {
			t.Errorf("apiVersion/kind %s %s, %s", repo.APIVersion, repo.Kind, hr.APIVersion)
		}
		if ref := hr.Spec.ChartRef; ref == nil || ref.Kind != sourcev1.OCIRepositoryKind || ref.Name != repo.Name || ref.Namespace != repo.Namespace {
			t.Errorf("the HelmRelease's chartRef %+v does not name the OCIRepository %s/%s", ref, repo.Namespace, repo.Name)
		}
		values := filepath.Join(t.TempDir(), "values.yaml")
		if hr.Spec.Values == nil {
			t.Fatal("the HelmRelease sets no values")
		}
		if err := os.WriteFile(values, hr.Spec.Values.Raw, 0o644); err != nil {
			t.Fatal(err)
		}
		accept(t, c, helm(t, "-f", values), "-f", "-")
	})

	t.Run("kustomize example", func(t *testing.T) {
		k := string(readFile(t, filepath.Join(root, "examples", "kustomize", "kustomization.yaml")))
		const remote = "https://github.com/flagger-monitoring/flagger-monitoring//"
		if strings.Count(k, remote) != 2 {
			t.Fatalf("examples/kustomize: want two remote bases of %s", remote)
		}
		// The remote bases, here: this checkout's directories (relative:
		// kustomize refuses an absolute base).
		dir := t.TempDir()
		rel := func(elem ...string) string {
			r, err := filepath.Rel(dir, filepath.Join(append([]string{root}, elem...)...))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		local := strings.NewReplacer(remote+"deploy/exporter?ref=v0.1.0", rel("deploy", "exporter"),
			remote+"mixin/manifests?ref=v0.1.0", rel("mixin", "manifests")).Replace(k)
		if strings.Contains(local, remote) {
			t.Fatalf("a remote base is not at ref v0.1.0:\n%s", local)
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(local), 0o644); err != nil {
			t.Fatal(err)
		}
		rendered := run(t, dir, testutil.Tool(t, "kubectl"), "kustomize", dir)
		if !strings.Contains(rendered, "image: ghcr.io/flagger-monitoring/flagger-exporter:v0.1.0") {
			t.Errorf("the example does not pin the exporter image to v0.1.0:\n%s", rendered)
		}
		out := accept(t, c, nil, "-k", dir, "-o", "name")
		for _, want := range []string{"deployment.apps/flagger-exporter", "prometheusrule.monitoring.coreos.com/flagger-monitoring"} {
			if !strings.Contains(out, want) {
				t.Errorf("the kustomize example did not apply %s:\n%s", want, out)
			}
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
