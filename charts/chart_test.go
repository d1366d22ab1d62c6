// Package charts tests the Helm chart with the real helm (bin/helm, from
// tools/helm): lint, the values schema, what each values file renders, and
// that the rules, dashboards and AlertmanagerConfig it renders are the
// mixin's, for the chart's defaults and for changed mixin values. The
// rendered chart is applied to a real API server in test/manifests.
package charts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flagger-monitoring/flagger-monitoring/exporter/kube"
	"github.com/flagger-monitoring/flagger-monitoring/internal/chartdoc"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

const release, namespace = "fm", "monitoring"

func chartDir(t testing.TB) string {
	return filepath.Join(testutil.RepoRoot(t), "charts", "flagger-monitoring")
}

// object is one rendered Kubernetes object.
type object map[string]any

func (o object) kind() string { return o["kind"].(string) }
func (o object) name() string { return o["metadata"].(map[string]any)["name"].(string) }
func (o object) ns() string {
	s, _ := o["metadata"].(map[string]any)["namespace"].(string)
	return s
}
func (o object) labels() map[string]any {
	l, _ := o["metadata"].(map[string]any)["labels"].(map[string]any)
	return l
}

// get walks o by keys (map keys or list indexes as ints).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if o, ok := v.(object); ok {
				v = map[string]any(o)
			}
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// helm runs bin/helm and returns its stdout, or the error with stderr.
func helm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testutil.Tool(t, "helm"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(err.Error() + ": " + stderr.String())
	}
	return stdout.String(), nil
}

// render is `helm template` of the chart (or a packaged .tgz) with args.
func render(t testing.TB, chart string, args ...string) []object {
	t.Helper()
	out, err := helm(t, append([]string{"template", release, chart, "-n", namespace}, args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	return decode(t, out)
}

func decode(t testing.TB, out string) []object {
	t.Helper()
	var objs []object
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("helm template output is not YAML: %v\n%s", err, out)
		}
		if o != nil {
			objs = append(objs, object(o))
		}
	}
}

func kinds(objs []object) map[string]int {
	m := map[string]int{}
	for _, o := range objs {
		m[o.kind()]++
	}
	return m
}

func find(t testing.TB, objs []object, kind, nameSuffix string) object {
	t.Helper()
	for _, o := range objs {
		if o.kind() == kind && strings.HasSuffix(o.name(), nameSuffix) {
			return o
		}
	}
	t.Fatalf("no %s named *%s among %v", kind, nameSuffix, kinds(objs))
	return nil
}

func valuesFile(t testing.TB, name string) string {
	return filepath.Join(testutil.RepoRoot(t), "charts", "testdata", name)
}

// normal makes YAML- and JSON-decoded values comparable (numbers, map types).
func normal(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// mixinRender evaluates the mixin with a _config override (JSON) and returns
// its rule groups, dashboards and AlertmanagerConfig spec.
func mixinRender(t testing.TB, config map[string]any) map[string]any {
	t.Helper()
	cfg, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	snippet := `local m = (import 'mixin.libsonnet') + { _config+:: ` + string(cfg) + ` };
{ rules: { groups: m.prometheusAlerts.groups + m.prometheusRules.groups },
  dashboards: m.grafanaDashboards, am: m.alertmanagerConfig.spec }`
	cmd := exec.Command(testutil.Tool(t, "jsonnet"), "-J", filepath.Join(testutil.RepoRoot(t), "mixin"), "-e", snippet)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("jsonnet: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// diffJSON fails with the first differing path when got != want.
func diffJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	got, want = normal(t, got), normal(t, want)
	if reflect.DeepEqual(got, want) {
		return
	}
	var walk func(path string, g, w any) string
	walk = func(path string, g, w any) string {
		switch wv := w.(type) {
		case map[string]any:
			gv, ok := g.(map[string]any)
			if !ok {
				return path
			}
			for k := range wv {
				if !reflect.DeepEqual(gv[k], wv[k]) {
					return walk(path+"."+k, gv[k], wv[k])
				}
			}
			for k := range gv {
				if _, ok := wv[k]; !ok {
					return path + "." + k + " (only in the chart)"
				}
			}
		case []any:
			gv, ok := g.([]any)
			if !ok || len(gv) != len(wv) {
				return path + " (length)"
			}
			for i := range wv {
				if !reflect.DeepEqual(gv[i], wv[i]) {
					return walk(path+"["+strconv.Itoa(i)+"]", gv[i], wv[i])
				}
			}
		}
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		return path + ": chart " + trunc(string(gb)) + ", mixin " + trunc(string(wb))
	}
	t.Errorf("%s differs from the mixin's render at %s", what, walk("", got, want))
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// The chart's rules, dashboards and AlertmanagerConfig are the mixin's own,
// with the chart's defaults and with every mixin value changed.
func TestChartRendersTheMixin(t *testing.T) {
	changed := map[string]any{
		"exporterSelector": `job="monitoring/fm-exporter", env!~"dev|test"`,
		"flaggerSelector":  `job="flagger", container="flagger"`,
		"clusterLabel":     "k8s_cluster",
		"noticeSeverity":   "heads-up",
	}
	for _, tc := range []struct {
		name   string
		mixin  map[string]any // the chart's mixin.* values (nil: defaults)
		am     map[string]bool
		secret string
	}{
		{name: "defaults", am: map[string]bool{"slack": true, "msteams": true, "eventAdapter": true, "pager": false}},
		{name: "changed", mixin: changed, secret: "team-secrets", am: map[string]bool{"slack": false, "msteams": true, "eventAdapter": false, "pager": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--set", "alertmanagerConfig.enabled=true"}
			config := map[string]any{}
			for k, v := range tc.mixin {
				args = append(args, "--set-string", "mixin."+k+"="+strings.ReplaceAll(v.(string), ",", `\,`))
				config[k] = v
			}
			for k, v := range tc.am {
				args = append(args, "--set", "alertmanagerConfig.receivers."+k+"="+map[bool]string{true: "true", false: "false"}[v])
			}
			amConfig := map[string]any{"receivers": map[string]any{
				"slack": tc.am["slack"], "msteams": tc.am["msteams"], "eventAdapter": tc.am["eventAdapter"], "pager": tc.am["pager"], "msteamsLegacy": false,
			}}
			if tc.secret != "" {
				args = append(args, "--set", "alertmanagerConfig.secretName="+tc.secret)
				amConfig["secretName"] = tc.secret
			}
			config["alertmanagerConfig"] = amConfig
			objs := render(t, chartDir(t), args...)
			want := mixinRender(t, config)

			diffJSON(t, "PrometheusRule spec", find(t, objs, "PrometheusRule", "flagger-monitoring")["spec"], want["rules"])
			diffJSON(t, "AlertmanagerConfig spec", find(t, objs, "AlertmanagerConfig", "flagger-monitoring")["spec"], want["am"])
			dashboards := want["dashboards"].(map[string]any)
			if len(dashboards) == 0 {
				t.Fatal("the mixin renders no dashboards")
			}
			for file, d := range dashboards {
				cm := find(t, objs, "ConfigMap", "dashboard-"+strings.TrimSuffix(file, ".json"))
				var got any
				if err := json.Unmarshal([]byte(get(cm, "data", file).(string)), &got); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				diffJSON(t, "dashboard "+file, got, d)
			}
			// The knobs really changed something (a placeholder left in, or
			// a value ignored, would also fail the comparisons above).
			rules, _ := json.Marshal(find(t, objs, "PrometheusRule", "flagger-monitoring")["spec"])
			if strings.Contains(string(rules), "@@") {
				t.Error("a placeholder is left in the rules")
			}
			for k, v := range tc.mixin {
				if !strings.Contains(string(rules), strings.Trim(string(must(json.Marshal(v))), `"`)) && k != "flaggerSelector" {
					t.Errorf("mixin.%s=%v is not in the rules", k, v)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func args(o object) []string {
	var out []string
	for _, a := range get(o, "spec", "template", "spec", "containers", 0, "args").([]any) {
		out = append(out, a.(string))
	}
	return out
}

// What each values file of charts/testdata renders (the same files are
// applied to a real API server in test/manifests).
func TestValuesMatrix(t *testing.T) {
	dir := chartDir(t)
	t.Run("defaults", func(t *testing.T) {
		objs := render(t, dir)
		want := map[string]int{"ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "Deployment": 1, "Service": 1, "ServiceMonitor": 1, "PrometheusRule": 1, "ConfigMap": 2}
		if got := kinds(objs); !reflect.DeepEqual(got, want) {
			t.Errorf("kinds %v, want %v", got, want)
		}
		d := find(t, objs, "Deployment", "exporter")
		a := args(d)
		for _, w := range []string{"--events.alert-severity=notice", "--flagger.mesh-provider=istio", "--events.alert-lifetime=10m"} {
			if !slices.Contains(a, w) {
				t.Errorf("exporter args %v lack %s", a, w)
			}
		}
		if img := get(d, "spec", "template", "spec", "containers", 0, "image"); img != "ghcr.io/flagger-monitoring/flagger-exporter:v0.1.0" {
			t.Errorf("image %v, want the appVersion tag", img)
		}
		rules := get(find(t, objs, "ClusterRole", "exporter"), "rules").([]any)
		if len(rules) != 2 || get(rules[1], "resources", 0) != "events" || !reflect.DeepEqual(get(rules[0], "verbs"), []any{"get", "list", "watch"}) {
			t.Errorf("ClusterRole rules %v: want read-only canaries and events", rules)
		}
		sm := find(t, objs, "ServiceMonitor", "exporter")
		if get(sm, "spec", "jobLabel") != "app.kubernetes.io/name" || find(t, objs, "Service", "exporter").labels()["app.kubernetes.io/name"] != "flagger-exporter" {
			t.Error("the exporter is not scraped as job=\"flagger-exporter\" (jobLabel from app.kubernetes.io/name)")
		}
		if get(sm, "spec", "endpoints", 0, "honorLabels") != true {
			t.Error("the exporter's ServiceMonitor must honour labels (namespace)")
		}
		for _, o := range objs {
			if _, ok := o.labels()["release"]; ok {
				t.Errorf("%s %s has a release label without kubePrometheusStackRelease", o.kind(), o.name())
			}
		}
	})
	t.Run("sharded", func(t *testing.T) {
		objs := render(t, dir, "-f", valuesFile(t, "sharded.yaml"))
		if k := kinds(objs); k["Deployment"] != 0 || k["StatefulSet"] != 1 || k["PodDisruptionBudget"] != 1 {
			t.Errorf("kinds %v: want the exporter as a StatefulSet, no Deployment, and its PDB", k)
		}
		s := find(t, objs, "StatefulSet", "exporter")
		a := args(s)
		if !slices.Contains(a, "--pod=$(POD_NAME)") || !slices.Contains(a, "--total-shards=3") {
			t.Errorf("exporter args %v: want --pod=$(POD_NAME) and --total-shards=3", a)
		}
		if get(s, "spec", "replicas") != 3 || get(s, "spec", "podManagementPolicy") != "Parallel" {
			t.Errorf("replicas %v, podManagementPolicy %v: want 3 started in parallel", get(s, "spec", "replicas"), get(s, "spec", "podManagementPolicy"))
		}
		env := get(s, "spec", "template", "spec", "containers", 0, "env", 0)
		if get(env, "name") != "POD_NAME" || get(env, "valueFrom", "fieldRef", "fieldPath") != "metadata.name" {
			t.Errorf("env %v: want POD_NAME from metadata.name", env)
		}
		// The StatefulSet's pods are <name>-<ordinal>: the exporter finds
		// its shard in them.
		for i := range 3 {
			pod := fmt.Sprintf("%s-%d", s.name(), i)
			if got, err := kube.ShardOfPod(pod, 3); err != nil || got != (kube.Shard{Index: i, Total: 3}) {
				t.Errorf("pod %s: shard %+v, %v", pod, got, err)
			}
		}
		// The PDB selects the shards' pods.
		sel := get(find(t, objs, "PodDisruptionBudget", "exporter"), "spec", "selector", "matchLabels")
		if !reflect.DeepEqual(sel, get(s, "spec", "selector", "matchLabels")) {
			t.Errorf("PDB selector %v, StatefulSet's %v", sel, get(s, "spec", "selector", "matchLabels"))
		}
	})
	t.Run("adapter", func(t *testing.T) {
		objs := render(t, dir, "-f", valuesFile(t, "adapter.yaml"))
		k := kinds(objs)
		if k["Deployment"] != 1 || k["StatefulSet"] != 1 || k["Service"] != 3 || k["Secret"] != 1 || k["ServiceMonitor"] != 2 || k["NetworkPolicy"] != 1 || k["PodDisruptionBudget"] != 1 || k["AlertmanagerConfig"] != 1 {
			t.Errorf("kinds %v: want the exporter's Deployment, the adapter's StatefulSet, config Secret, Service and peers Service, ServiceMonitor, NetworkPolicy, PDB and the AlertmanagerConfig", k)
		}
		d := find(t, objs, "StatefulSet", "event-adapter")
		// Two replicas share one idempotency window: each lists both pods
		// under the headless Service, whose DNS names they have.
		name := "fm-flagger-monitoring-event-adapter"
		var peers []string
		for _, a := range args(d) {
			if p, ok := strings.CutPrefix(a, "--cluster.peer="); ok {
				peers = append(peers, p)
			}
		}
		wantPeers := []string{"http://" + name + "-0." + name + "-peers.monitoring.svc:9099", "http://" + name + "-1." + name + "-peers.monitoring.svc:9099"}
		if fmt.Sprint(get(d, "spec", "replicas")) != "2" || get(d, "spec", "serviceName") != name+"-peers" || !slices.Equal(peers, wantPeers) {
			t.Errorf("adapter StatefulSet: replicas %v, serviceName %v, peers %v; want 2 replicas listing %v", get(d, "spec", "replicas"), get(d, "spec", "serviceName"), peers, wantPeers)
		}
		headless := find(t, objs, "Service", "event-adapter-peers")
		if get(headless, "spec", "clusterIP") != "None" || get(headless, "spec", "publishNotReadyAddresses") != true {
			t.Error("the peers Service must be headless and publish starting pods")
		}
		if headless.labels()["app.kubernetes.io/name"] == "flagger-event-adapter" {
			t.Error("the peers Service carries the adapter's name label: its ServiceMonitor would scrape each pod twice")
		}
		from := get(find(t, objs, "NetworkPolicy", "event-adapter"), "spec", "ingress", 0, "from").([]any)
		if got := get(from[len(from)-1], "podSelector", "matchLabels", "app.kubernetes.io/name"); got != "flagger-event-adapter" {
			t.Errorf("the NetworkPolicy does not let the replicas reach each other: %v", from)
		}
		// The peers dial the pods, not the Service: its port does not apply.
		ported := find(t, render(t, dir, "-f", valuesFile(t, "adapter.yaml"), "--set", "adapter.service.port=80"), "StatefulSet", "event-adapter")
		if a := strings.Join(args(ported), " "); !strings.Contains(a, "-peers.monitoring.svc:9099") || strings.Contains(a, ":80") {
			t.Errorf("with service.port=80 the peers are %s; want the container port 9099", a)
		}
		// Long names stay valid: the StatefulSet at most 52 characters
		// (its pods' labels), every Service at most 63.
		long := render(t, dir, "-f", valuesFile(t, "adapter.yaml"), "--set", "fullnameOverride=a-rather-long-release-name-for-flagger-monitoring-x")
		for _, o := range long {
			if limit := map[string]int{"StatefulSet": 52, "Service": 63}[o.kind()]; limit > 0 && len(o.name()) > limit {
				t.Errorf("%s %s: %d characters, over %d", o.kind(), o.name(), len(o.name()), limit)
			}
		}
		one := find(t, render(t, dir, "-f", valuesFile(t, "adapter.yaml"), "--set", "adapter.replicas=1"), "StatefulSet", "event-adapter")
		if a := strings.Join(args(one), " "); strings.Contains(a, "--cluster.peer") {
			t.Errorf("one replica lists peers: %s", a)
		}
		if get(d, "spec", "template", "spec", "automountServiceAccountToken") != false {
			t.Error("the adapter must not mount a token")
		}
		if get(d, "spec", "template", "metadata", "annotations", "checksum/config") == nil {
			t.Error("no config checksum: a changed config would not roll the adapter")
		}
		var adapterURL any
		for _, r := range get(find(t, objs, "AlertmanagerConfig", ""), "spec", "receivers").([]any) {
			if get(r, "name") == "flagger-event-adapter" {
				adapterURL = get(r, "webhookConfigs", 0, "url")
				if get(r, "webhookConfigs", 0, "urlSecret") != nil {
					t.Error("the chart's adapter still read from urlSecret")
				}
			}
		}
		if adapterURL != "http://fm-flagger-monitoring-event-adapter.monitoring.svc:9099/webhook" {
			t.Errorf("adapter receiver url %v", adapterURL)
		}
		// An existing Secret replaces the rendered one.
		objs = render(t, dir, "-f", valuesFile(t, "adapter.yaml"), "--set", "adapter.existingSecret=my-adapter")
		if kinds(objs)["Secret"] != 0 || get(find(t, objs, "StatefulSet", "event-adapter"), "spec", "template", "spec", "volumes", 0, "secret", "secretName") != "my-adapter" {
			t.Error("adapter.existingSecret: the chart still renders its own Secret or does not mount the existing one")
		}
	})
	t.Run("secrets", func(t *testing.T) {
		objs := render(t, dir, "--set", "exporter.webConfigSecret=exporter-web", "--set", "exporter.events.httpConfigSecret=am-creds",
			"--set", "exporter.events.alertmanagerURLs[0]=https://am:9093", "--set", "kubePrometheusStackRelease=kps", "--set", "exporter.serviceMonitor.additionalLabels.release=mine")
		d := find(t, objs, "Deployment", "exporter")
		spec := get(d, "spec", "template", "spec")
		a := args(d)
		for _, w := range []string{"--web.config.file=/etc/flagger-exporter/web/web-config.yml", "--events.alertmanager-http-config=/etc/flagger-exporter/alertmanager/http-config.yml"} {
			if !slices.Contains(a, w) {
				t.Errorf("exporter args %v lack %s", a, w)
			}
		}
		var secrets []any
		for _, v := range get(spec, "volumes").([]any) {
			secrets = append(secrets, get(v, "secret", "secretName"))
		}
		if !reflect.DeepEqual(secrets, []any{"exporter-web", "am-creds"}) {
			t.Errorf("exporter volumes from Secrets %v", secrets)
		}
		// The Secrets are 0440: readable by the exporter's user only through fsGroup.
		if get(spec, "securityContext", "fsGroup") != 65532 || get(spec, "volumes", 0, "secret", "defaultMode") != 0o440 {
			t.Errorf("pod security context %v, volumes %v", get(spec, "securityContext"), get(spec, "volumes"))
		}
		// exporter-toolkit's auth covers /-/healthy too: the probes check the port.
		if get(spec, "containers", 0, "livenessProbe", "tcpSocket") == nil || get(spec, "containers", 0, "readinessProbe", "httpGet") != nil {
			t.Errorf("probes with a web config: %v / %v", get(spec, "containers", 0, "livenessProbe"), get(spec, "containers", 0, "readinessProbe"))
		}
		if l := find(t, objs, "ServiceMonitor", "exporter").labels(); l["release"] != "kps" {
			t.Errorf("kubePrometheusStackRelease must win over additionalLabels.release: %v", l)
		}
	})
	t.Run("namespaced", func(t *testing.T) {
		objs := render(t, dir, "-f", valuesFile(t, "namespaced.yaml"))
		k := kinds(objs)
		if k["ClusterRole"] != 0 || k["ClusterRoleBinding"] != 0 || k["Role"] != 2 || k["RoleBinding"] != 2 {
			t.Errorf("kinds %v: want a Role and RoleBinding per namespace and no cluster-wide RBAC", k)
		}
		var nss []string
		for _, o := range objs {
			if o.kind() == "Role" {
				nss = append(nss, o.ns())
				if rules := get(o, "rules").([]any); len(rules) != 1 {
					t.Errorf("Role in %s: %v; without the Events watch only canaries", o.ns(), rules)
				}
			}
			if o.kind() == "RoleBinding" && get(o, "subjects", 0, "namespace") != namespace {
				t.Errorf("RoleBinding in %s binds %v", o.ns(), get(o, "subjects"))
			}
		}
		slices.Sort(nss)
		if !slices.Equal(nss, []string{"team-a", "team-b"}) {
			t.Errorf("Roles in %v", nss)
		}
		a := args(find(t, objs, "Deployment", "exporter"))
		if !slices.Contains(a, "--namespace=team-a") || !slices.Contains(a, "--namespace=team-b") || !slices.Contains(a, "--no-events.watch") {
			t.Errorf("exporter args %v", a)
		}
	})
	t.Run("kube-prometheus-stack", func(t *testing.T) {
		objs := render(t, dir, "-f", valuesFile(t, "kube-prometheus-stack.yaml"))
		selected := 0
		for _, o := range objs {
			switch o.kind() {
			case "ServiceMonitor", "PodMonitor", "PrometheusRule", "AlertmanagerConfig":
				selected++
				if o.labels()["release"] != "kube-prometheus-stack" {
					t.Errorf("%s %s: release label %v", o.kind(), o.name(), o.labels()["release"])
				}
			}
		}
		if selected != 4 {
			t.Errorf("%d objects kube-prometheus-stack selects, want ServiceMonitor, PodMonitor, PrometheusRule, AlertmanagerConfig", selected)
		}
		pm := find(t, objs, "PodMonitor", "flagger")
		if pm.ns() != "flagger-system" || get(pm, "spec", "podMetricsEndpoints", 0, "honorLabels") != true || get(pm, "spec", "jobLabel") != "app.kubernetes.io/name" {
			t.Errorf("Flagger's PodMonitor: %v", pm["spec"])
		}
		if a := args(find(t, objs, "Deployment", "exporter")); !slices.Contains(a, "--events.alertmanager-url=http://alertmanager-operated.monitoring.svc:9093") {
			t.Errorf("exporter args %v", a)
		}
		for _, o := range objs {
			if o.kind() == "ConfigMap" && o.ns() != "monitoring" {
				t.Errorf("dashboard %s in %s", o.name(), o.ns())
			}
		}
	})
}

// helm lint --strict passes for every values file, and the packaged chart
// (what users install) holds the mixin's render.
func TestLintAndPackage(t *testing.T) {
	dir := chartDir(t)
	files, err := filepath.Glob(valuesFile(t, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files: %v", err)
	}
	for _, f := range append([]string{""}, files...) {
		a := []string{"lint", "--strict", dir}
		if f != "" {
			a = append(a, "-f", f)
		}
		if out, err := helm(t, a...); err != nil {
			t.Errorf("helm lint %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
	out := t.TempDir()
	if _, err := helm(t, "package", dir, "-d", out); err != nil {
		t.Fatal(err)
	}
	tgz, _ := filepath.Glob(filepath.Join(out, "*.tgz"))
	if len(tgz) != 1 {
		t.Fatalf("helm package wrote %v", tgz)
	}
	if k := kinds(render(t, tgz[0])); k["PrometheusRule"] != 1 || k["ConfigMap"] != 2 {
		t.Errorf("the packaged chart renders %v", k)
	}
}

// values.schema.json refuses what would render a broken install, and knows
// every value of values.yaml (so a new value cannot go unchecked).
func TestValuesSchema(t *testing.T) {
	dir := chartDir(t)
	for _, tc := range []struct{ set, want string }{
		{"mixin.clusterLabel=k8s-cluster", "/mixin/clusterLabel"},
		{"mixin.exporterSelector=", "/mixin/exporterSelector"},
		{"exporter.namespaces[0]=Team_A", "/exporter/namespaces/0"},
		{"exporter.events.alertmanagerURLs[0]=alertmanager:9093", "/exporter/events/alertmanagerURLs/0"},
		{"exporter.logLevel=verbose", "/exporter/logLevel"},
		{"exporter.events.alertLifetime=ten", "/exporter/events/alertLifetime"},
		{"exporter.nameSpaces[0]=a", "nameSpaces"},
		{"adapter.image.digest=latest", "/adapter/image/digest"},
	} {
		_, err := helm(t, "template", release, dir, "--set", tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: %v, want an error naming %s", tc.set, err, tc.want)
		}
	}
	var schema map[string]any
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "values.schema.json"))), &schema); err != nil {
		t.Fatal(err)
	}
	rows, err := chartdoc.Rows(must(os.ReadFile(filepath.Join(dir, "values.yaml"))))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		node := any(schema)
		for _, k := range strings.Split(r.Key, ".") {
			node = get(node, "properties", k)
		}
		if node == nil {
			t.Errorf("values.schema.json has no %s", r.Key)
		}
	}
}

// The README's values table is generated from values.yaml (make generate).
func TestValuesTableInSync(t *testing.T) {
	dir := chartDir(t)
	rows, err := chartdoc.Rows(must(os.ReadFile(filepath.Join(dir, "values.yaml"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 50 {
		t.Fatalf("only %d documented values", len(rows))
	}
	readme := string(must(os.ReadFile(filepath.Join(dir, "README.md"))))
	want, err := chartdoc.Splice(readme, chartdoc.Table(rows))
	if err != nil {
		t.Fatal(err)
	}
	if want != readme {
		t.Error("charts/flagger-monitoring/README.md: the values table is out of date: run make generate")
	}
}
