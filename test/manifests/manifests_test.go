package manifests_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
	"github.com/flagger-monitoring/flagger-monitoring/test/harness"
)

// The namespace of the rendered manifests (_config.manifests.namespace) and
// the one deploy/adapter's README line applies it to.
const monitoringNamespace = "monitoring"

// TestManifests starts one API server with the Canary CRD and
// prometheus-operator's PrometheusRule, ServiceMonitor and AlertmanagerConfig
// CRDs and dry-runs every manifest the repository ships against it, plus
// malformed variants the CRD schemas must reject.
func TestManifests(t *testing.T) {
	c := harness.Start(t)
	c.InstallCRDs(t,
		harness.CanaryCRD(),
		harness.PrometheusOperatorCRD(t, "monitoring.coreos.com_prometheusrules.yaml"),
		harness.PrometheusOperatorCRD(t, "monitoring.coreos.com_servicemonitors.yaml"),
		harness.PrometheusOperatorCRD(t, "monitoring.coreos.com_alertmanagerconfigs.yaml"),
		harness.PrometheusOperatorCRD(t, "monitoring.coreos.com_podmonitors.yaml"),
	)
	createNamespace(t, c, monitoringNamespace)
	testChart(t, c)
	root := testutil.RepoRoot(t)
	mixinManifests := filepath.Join(root, "mixin", "manifests")

	t.Run("mixin kustomization", func(t *testing.T) {
		out := accept(t, c, nil, "-k", mixinManifests, "-o", "name")
		names := strings.Fields(out)
		for _, want := range []string{
			"prometheusrule.monitoring.coreos.com/flagger-monitoring",
			"alertmanagerconfig.monitoring.coreos.com/flagger-monitoring",
			"configmap/flagger-monitoring-dashboard-flagger-canaries",
			"configmap/flagger-monitoring-dashboard-flagger-canary",
		} {
			if !slices.Contains(names, want) {
				t.Errorf("kubectl apply -k %s did not apply %s; got %v", mixinManifests, want, names)
			}
		}
	})

	t.Run("mixin manifest files", func(t *testing.T) {
		resources := kustomizationResources(t, mixinManifests)
		if len(resources) == 0 {
			t.Fatal("mixin/manifests/kustomization.yaml lists no resources")
		}
		for _, f := range resources {
			t.Run(f, func(t *testing.T) {
				accept(t, c, nil, "-f", filepath.Join(mixinManifests, f))
			})
		}
	})

	t.Run("adapter kustomization", func(t *testing.T) {
		// deploy/adapter names no namespace: applied with -n, as its
		// kustomization.yaml says.
		out := accept(t, c, nil, "-k", filepath.Join(root, "deploy", "adapter"), "-n", monitoringNamespace, "-o", "name")
		for _, want := range []string{"statefulset.apps/flagger-event-adapter", "service/flagger-event-adapter", "service/flagger-event-adapter-peers", "servicemonitor.monitoring.coreos.com/flagger-event-adapter"} {
			if !slices.Contains(strings.Fields(out), want) {
				t.Errorf("deploy/adapter did not apply %s; got %s", want, out)
			}
		}
	})

	t.Run("malformed PrometheusRule", func(t *testing.T) {
		// The CRD validates `for` as a duration pattern. (It does not parse
		// PromQL: a broken expr passes the API server without the operator's
		// admission webhook, so that is no check this test could make.)
		obj := readObject(t, filepath.Join(mixinManifests, "prometheusrule.yaml"))
		field := ""
		for i, g := range list(obj, "spec", "groups") {
			for j, r := range list(g.(map[string]any), "rules") {
				if rule := r.(map[string]any); rule["for"] != nil && field == "" {
					rule["for"] = "soon"
					field = fmt.Sprintf("spec.groups[%d].rules[%d].for", i, j)
				}
			}
		}
		if field == "" {
			t.Fatal("the rendered PrometheusRule has no rule with `for`")
		}
		reject(t, c, obj, field, `"soon"`)
	})

	t.Run("malformed AlertmanagerConfig", func(t *testing.T) {
		path := filepath.Join(mixinManifests, "alertmanagerconfig.yaml")

		// msteamsv2Configs spell it webhookURL, msteamsConfigs webhookUrl:
		// the wrong case is an unknown field, which strict validation (what
		// kubectl asks for) rejects instead of silently dropping the secret.
		obj := readObject(t, path)
		field := ""
		for i, r := range list(obj, "spec", "receivers") {
			for j, m := range list(r.(map[string]any), "msteamsv2Configs") {
				cfg := m.(map[string]any)
				cfg["webhookUrl"] = cfg["webhookURL"]
				delete(cfg, "webhookURL")
				field = fmt.Sprintf("spec.receivers[%d].msteamsv2Configs[%d].webhookUrl", i, j)
			}
		}
		if field == "" {
			t.Fatal("the rendered AlertmanagerConfig has no msteamsv2Configs")
		}
		reject(t, c, obj, field, "unknown field")

		// A receiver must have a name.
		obj = readObject(t, path)
		receivers := list(obj, "spec", "receivers")
		last := len(receivers) - 1
		delete(receivers[last].(map[string]any), "name")
		reject(t, c, obj, fmt.Sprintf("spec.receivers[%d].name", last), "Required value")
	})

	t.Run("jsonnet consumer", func(t *testing.T) {
		consumerRender(t, c)
	})
}

// consumerJsonnet is what a user of the mixin writes after `jb install`:
// the mixin with _config overrides, as one List of Kubernetes objects built
// with the mixin's manifest helpers. It turns on the legacy Teams receiver,
// whose msteamsConfigs spell webhookUrl differently from msteamsv2Configs.
const consumerJsonnet = `
local flagger = (import 'flagger-monitoring/mixin/mixin.libsonnet') + {
  _config+:: {
    exporterSelector: 'job="my-exporter"',
    manifests+: { namespace: 'team-monitoring', prometheusRuleLabels: { prometheus: 'k8s' } },
    alertmanagerConfig+: {
      labels: { alertmanagerConfig: 'flagger' },
      slackChannel: '#deployments',
      receivers+: { msteamsLegacy: true, pager: false },
    },
  },
};
local manifests = import 'flagger-monitoring/mixin/lib/manifests.libsonnet';
local c = flagger._config;
{
  apiVersion: 'v1',
  kind: 'List',
  items: [
    manifests.prometheusRule(c, flagger.prometheusAlerts.groups + flagger.prometheusRules.groups),
    flagger.alertmanagerConfig,
  ] + [
    manifests.dashboardConfigMap(c, f, flagger.grafanaDashboards[f])
    for f in std.objectFields(flagger.grafanaDashboards)
  ],
}
`

// consumerRender installs the repository with jb (from a local path, which
// jb vendors under the directory's name, as a git install would), renders
// consumerJsonnet and dry-runs the result.
func consumerRender(t *testing.T, c *harness.Cluster) {
	tmp := t.TempDir()
	if err := os.Symlink(testutil.RepoRoot(t), filepath.Join(tmp, "flagger-monitoring")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "consumer")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	jb := testutil.Tool(t, "jb")
	run(t, dir, jb, "init")
	run(t, dir, jb, "install", "../flagger-monitoring")
	if err := os.WriteFile(filepath.Join(dir, "main.jsonnet"), []byte(consumerJsonnet), 0o644); err != nil {
		t.Fatal(err)
	}
	rendered := run(t, dir, testutil.Tool(t, "jsonnet"), "-J", "vendor", "main.jsonnet")

	createNamespace(t, c, "team-monitoring")
	out := accept(t, c, []byte(rendered), "-f", "-", "-o", "json")
	var applied struct {
		Items []struct {
			Kind     string            `json:"kind"`
			Metadata metav1.ObjectMeta `json:"metadata"`
			Spec     map[string]any    `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &applied); err != nil {
		t.Fatalf("kubectl output: %v\n%s", err, out)
	}
	kinds := map[string]int{}
	for _, o := range applied.Items {
		kinds[o.Kind]++
		if o.Metadata.Namespace != "team-monitoring" {
			t.Errorf("%s %s: namespace %q, want the _config override team-monitoring", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
		switch o.Kind {
		case "PrometheusRule":
			if o.Metadata.Labels["prometheus"] != "k8s" {
				t.Errorf("PrometheusRule labels %v: prometheusRuleLabels override lost", o.Metadata.Labels)
			}
		case "AlertmanagerConfig":
			if o.Metadata.Labels["alertmanagerConfig"] != "flagger" {
				t.Errorf("AlertmanagerConfig labels %v: alertmanagerConfig.labels override lost", o.Metadata.Labels)
			}
			var names []string
			legacyURL := false
			for _, r := range list(o.Spec, "receivers") {
				rm := r.(map[string]any)
				names = append(names, fmt.Sprint(rm["name"]))
				for _, m := range list(rm, "msteamsConfigs") {
					_, legacyURL = m.(map[string]any)["webhookUrl"]
				}
			}
			if !slices.Contains(names, "flagger-teams-legacy") || slices.Contains(names, "flagger-pager") || !legacyURL {
				t.Errorf("AlertmanagerConfig receivers %v (legacy webhookUrl kept: %v): receivers override not applied", names, legacyURL)
			}
		}
	}
	if kinds["PrometheusRule"] != 1 || kinds["AlertmanagerConfig"] != 1 || kinds["ConfigMap"] != 2 {
		t.Errorf("applied %v, want 1 PrometheusRule, 1 AlertmanagerConfig, 2 ConfigMaps", kinds)
	}
}

// accept dry-runs `kubectl apply` with the API server's strict field
// validation (unknown and duplicate fields are errors, not warnings) and
// fails the test if it is rejected. It returns stdout.
func accept(t *testing.T, c *harness.Cluster, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, err := c.Kubectl(t, "", stdin, append([]string{"apply", "--dry-run=server", "--validate=strict"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl apply %v rejected: %v\n%s%s", args, err, out, errOut)
	}
	return out
}

// reject dry-runs obj and wants it refused with a message naming field and
// containing why.
func reject(t *testing.T, c *harness.Cluster, obj map[string]any, field, why string) {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := c.Kubectl(t, "", b, "apply", "--dry-run=server", "--validate=strict", "-f", "-")
	if err == nil {
		t.Fatalf("malformed %s (%s) accepted:\n%s", obj["kind"], field, out)
	}
	t.Logf("rejected as expected: %s", strings.TrimSpace(errOut))
	if !strings.Contains(errOut, field) || !strings.Contains(errOut, why) {
		t.Errorf("malformed %s rejected without naming %s (%s):\n%s", obj["kind"], field, why, errOut)
	}
}

func createNamespace(t *testing.T, c *harness.Cluster, name string) {
	t.Helper()
	if _, err := c.Kube.CoreV1().Namespaces().Create(context.Background(), harness.Namespace(name), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// readObject reads a single-document YAML manifest.
func readObject(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := utilyaml.ToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(j, &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// kustomizationResources lists the resources of dir/kustomization.yaml.
func kustomizationResources(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, r := range list(readObject(t, filepath.Join(dir, "kustomization.yaml")), "resources") {
		out = append(out, r.(string))
	}
	return out
}

// list is the array at path in obj (nil if absent).
func list(obj map[string]any, path ...string) []any {
	var v any = obj
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	l, _ := v.([]any)
	return l
}

func run(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, stderr.String())
	}
	return string(out)
}
