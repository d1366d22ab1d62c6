package amconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// renderAMC renders mixin/alertmanager/alertmanager-config.libsonnet with
// bin/jsonnet for the given _config.
func renderAMC(t *testing.T, cfg string) map[string]any {
	t.Helper()
	root := testutil.RepoRoot(t)
	cmd := exec.Command(testutil.Tool(t, "jsonnet"), "--tla-code", "_config="+cfg,
		filepath.Join("mixin", "alertmanager", "alertmanager-config.libsonnet"))
	cmd.Dir = root // imports in _config are relative to the repository
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jsonnet: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// schema is the subset of OpenAPI v3 a CRD's structural schema uses.
type schema struct {
	Type            string            `json:"type"`
	Properties      map[string]schema `json:"properties"`
	Items           *schema           `json:"items"`
	Required        []string          `json:"required"`
	Enum            []any             `json:"enum"`
	Pattern         string            `json:"pattern"`
	MinLength       *int              `json:"minLength"`
	Minimum         *float64          `json:"minimum"`
	PreserveUnknown bool              `json:"x-kubernetes-preserve-unknown-fields"`
	Pruned          bool              `json:"x-pruned"`
}

// The AlertmanagerConfig CRD of prometheus-operator v0.85.0, trimmed to what
// this object uses (see "source" in the file).
func crdSchema(t *testing.T) schema {
	b, err := os.ReadFile(filepath.Join("testdata", "alertmanagerconfig-v1alpha1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Schema schema }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Schema
}

// validate checks v against s the way the API server's structural schema
// does, and reports unknown fields (which the API server would drop).
// Child routes are preserve-unknown in the CRD because routes nest; the
// operator reads them as routes, so they are checked against the route
// schema.
func validate(path string, v any, s, route schema) []string {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(f, a...)) }
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want object, got %T", v)
			return errs
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				bad("missing required %q", r)
			}
		}
		if s.Pruned || (s.PreserveUnknown && s.Properties == nil) {
			return errs
		}
		if path == ".metadata" {
			// ObjectMeta: the API server validates it, not the CRD.
			for _, k := range []string{"name", "namespace"} {
				if n, _ := obj[k].(string); n == "" {
					bad("no %s", k)
				}
			}
			return errs
		}
		for k, fv := range obj {
			fs, ok := s.Properties[k]
			if !ok {
				bad("unknown field %q", k)
				continue
			}
			errs = append(errs, validate(path+"."+k, fv, fs, route)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("want array, got %T", v)
			return errs
		}
		items := *s.Items
		if strings.HasSuffix(path, ".routes") {
			items = route
		}
		for i, e := range arr {
			errs = append(errs, validate(fmt.Sprintf("%s[%d]", path, i), e, items, route)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want string, got %T", v)
			return errs
		}
		if s.MinLength != nil && len(str) < *s.MinLength {
			bad("shorter than %d", *s.MinLength)
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			bad("%q does not match %s", str, s.Pattern)
		}
		if len(s.Enum) > 0 && !containsAny(s.Enum, str) {
			bad("%q not in %v", str, s.Enum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want boolean, got %T", v)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			bad("want integer, got %v", v)
		} else if s.Minimum != nil && f < *s.Minimum {
			bad("%v below minimum %v", f, *s.Minimum)
		}
	}
	return errs
}

func containsAny(xs []any, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

var amcVariants = map[string]string{
	"defaults":    `{}`,
	"mixin":       `(import "mixin/config.libsonnet")._config`,
	"mixin-style": `{manifests: {namespace: "observability"}, alertmanagerConfig+: {labels: {alertmanagerConfig: "flagger"}, slackChannel: "#deployments", receivers+: {msteamsLegacy: true}, secretKeys+: {slack: "slack"}}}`,
	"slack only":  `{alertmanagerConfig+: {receivers+: {msteams: false, eventAdapter: false, pager: false}}}`,
}

// The rendered object fits the CRD's schema and passes the checks the
// operator applies before it accepts an AlertmanagerConfig (the API server
// dry-run lives in the test/ module).
func TestAlertmanagerConfigSchema(t *testing.T) {
	s := crdSchema(t)
	route := s.Properties["spec"].Properties["route"]
	for name, cfg := range amcVariants {
		obj := renderAMC(t, cfg)
		if obj["apiVersion"] != "monitoring.coreos.com/v1alpha1" || obj["kind"] != "AlertmanagerConfig" {
			t.Errorf("%s: apiVersion/kind %v/%v", name, obj["apiVersion"], obj["kind"])
		}
		meta, _ := obj["metadata"].(map[string]any)
		if meta["name"] == "" || meta["namespace"] == "" {
			t.Errorf("%s: metadata %v", name, meta)
		}
		for _, e := range validate("", obj, s, route) {
			t.Errorf("%s: %s", name, e)
		}
		for _, e := range operatorChecks(obj) {
			t.Errorf("%s: %s", name, e)
		}
	}
	if ns := renderAMC(t, amcVariants["mixin-style"])["metadata"].(map[string]any)["namespace"]; ns != "observability" {
		t.Errorf("namespace from _config.manifests: %v", ns)
	}
	// With the mixin's own _config it is named and labelled like the mixin's
	// other manifests.
	meta := renderAMC(t, amcVariants["mixin"])["metadata"].(map[string]any)
	if l, _ := meta["labels"].(map[string]any); meta["name"] != "flagger-monitoring" || l["app.kubernetes.io/part-of"] != "flagger-monitoring" {
		t.Errorf("metadata from the mixin's _config.manifests: %v", meta)
	}
}

// operatorChecks repeats prometheus-operator's semantic validation of a
// v1alpha1 AlertmanagerConfig: receivers unique and defined, groupBy unique
// with "..." alone, matchers valid.
func operatorChecks(obj map[string]any) []string {
	var errs []string
	spec := obj["spec"].(map[string]any)
	receivers := map[string]bool{}
	for _, r := range spec["receivers"].([]any) {
		n := r.(map[string]any)["name"].(string)
		if receivers[n] {
			errs = append(errs, "duplicate receiver "+n)
		}
		receivers[n] = true
	}
	var walk func(string, map[string]any, bool)
	walk = func(path string, r map[string]any, top bool) {
		recv, _ := r["receiver"].(string)
		if (top && recv == "") || (recv != "" && !receivers[recv]) {
			errs = append(errs, path+": receiver "+strconv.Quote(recv)+" not defined")
		}
		seen := map[any]bool{}
		gb, _ := r["groupBy"].([]any)
		for _, g := range gb {
			if seen[g] || (g == "..." && len(gb) > 1) {
				errs = append(errs, path+": bad groupBy")
			}
			seen[g] = true
		}
		ms, _ := r["matchers"].([]any)
		for _, m := range ms {
			if _, err := toMatcher(m); err != nil {
				errs = append(errs, path+": "+err.Error())
			}
		}
		rs, _ := r["routes"].([]any)
		for i, c := range rs {
			walk(fmt.Sprintf("%s.routes[%d]", path, i), c.(map[string]any), false)
		}
	}
	walk("route", spec["route"].(map[string]any), true)
	return errs
}

func toMatcher(m any) (*labels.Matcher, error) {
	mm := m.(map[string]any)
	types := map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}
	mt, ok := types[mm["matchType"].(string)]
	if !ok {
		return nil, fmt.Errorf("matchType %v", mm["matchType"])
	}
	value, _ := mm["value"].(string)
	return labels.NewMatcher(mt, mm["name"].(string), value)
}

// The file is formatted the way the mixin's other files are.
func TestAlertmanagerConfigFormatted(t *testing.T) {
	file := filepath.Join(testutil.RepoRoot(t), "mixin", "alertmanager", "alertmanager-config.libsonnet")
	if out, err := exec.Command(testutil.Tool(t, "jsonnetfmt"), "--test", file).CombinedOutput(); err != nil {
		t.Errorf("jsonnetfmt --test: %v %s (run jsonnetfmt -i)", err, out)
	}
	if out, err := exec.Command(testutil.Tool(t, "jsonnet-lint"), file).CombinedOutput(); err != nil {
		t.Errorf("jsonnet-lint: %v %s", err, out)
	}
}

// Receivers and routes follow the _config switches.
func TestAlertmanagerConfigSwitches(t *testing.T) {
	names := func(obj map[string]any) string {
		var out []string
		for _, r := range obj["spec"].(map[string]any)["receivers"].([]any) {
			rm := r.(map[string]any)
			var kinds []string
			for k := range rm {
				if k != "name" {
					kinds = append(kinds, k)
				}
			}
			slices.Sort(kinds)
			out = append(out, fmt.Sprintf("%s %v", rm["name"], kinds))
		}
		return strings.Join(out, " ")
	}
	got := map[string]string{}
	for name, cfg := range amcVariants {
		got[name] = names(renderAMC(t, cfg))
	}
	for name, want := range map[string]string{
		"defaults":   "flagger-chat [msteamsv2Configs slackConfigs] flagger-chat-notices [msteamsv2Configs slackConfigs] flagger-none [] flagger-event-adapter [webhookConfigs] flagger-pager [pagerdutyConfigs]",
		"slack only": "flagger-chat [slackConfigs] flagger-chat-notices [slackConfigs] flagger-none []",
	} {
		if !sameWords(got[name], want) {
			t.Errorf("%s: receivers %q, want %q", name, got[name], want)
		}
	}
	if !strings.Contains(got["mixin-style"], "flagger-teams-legacy [msteamsConfigs]") {
		t.Errorf("legacy Teams not rendered when enabled: %s", got["mixin-style"])
	}
}

func sameWords(a, b string) bool {
	norm := func(s string) string {
		f := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '[' || r == ']' })
		slices.Sort(f)
		return strings.Join(f, " ")
	}
	return norm(a) == norm(b)
}

// The AlertmanagerConfig says the same thing as alertmanager.yml: turned into
// an Alertmanager configuration the way the operator does (camelCase to
// snake_case, secret references to values, `continue` forced on the top
// route) and loaded by Alertmanager, its route subtree, receivers and
// inhibit rules equal the file's. The routing and inhibition tests of the
// file therefore hold for it too.
func TestAlertmanagerConfigMatchesFile(t *testing.T) {
	file := loadConfig(t)
	amc := amcAsConfig(t, renderAMC(t, `{alertmanagerConfig+: {receivers+: {msteamsLegacy: true}}}`))

	fileRoute, amcRoute := *file.Route.Routes[0], *amc.Route.Routes[0]
	if !amcRoute.Continue {
		t.Error("converted top route lost the operator's continue: true")
	}
	amcRoute.Continue = fileRoute.Continue
	equalJSON(t, "route subtree", &fileRoute, &amcRoute)
	for _, r := range file.Receivers {
		if r.Name == "default" {
			continue
		}
		found := false
		for _, a := range amc.Receivers {
			if a.Name == r.Name {
				found = true
				equalJSON(t, "receiver "+r.Name, r, a)
			}
		}
		if !found {
			t.Errorf("receiver %s missing from the AlertmanagerConfig", r.Name)
		}
	}
	equalJSON(t, "inhibit rules", file.InhibitRules, amc.InhibitRules)
}

func equalJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if string(w) != string(g) {
		t.Errorf("%s differs:\nalertmanager.yml:   %s\nAlertmanagerConfig: %s", what, w, g)
	}
}

// amcAsConfig turns the object into an Alertmanager configuration and loads
// it with Alertmanager's loader. Secrets become *_file paths under the
// file's secret directory, so receivers compare equal to the file's.
func amcAsConfig(t *testing.T, obj map[string]any) *config.Config {
	t.Helper()
	spec := obj["spec"].(map[string]any)
	top := convert(spec["route"]).(map[string]any)
	top["continue"] = true // prometheus-operator forces it
	var receivers []any
	receivers = append(receivers, map[string]any{"name": "default"})
	for _, r := range spec["receivers"].([]any) {
		receivers = append(receivers, convert(r))
	}
	var inhibit []any
	for _, r := range spec["inhibitRules"].([]any) {
		rm := r.(map[string]any)
		inhibit = append(inhibit, map[string]any{
			"source_matchers": convert(rm["sourceMatch"]),
			"target_matchers": convert(rm["targetMatch"]),
			"equal":           rm["equal"],
		})
	}
	doc := map[string]any{
		"route":         map[string]any{"receiver": "default", "routes": []any{top}},
		"receivers":     receivers,
		"inhibit_rules": inhibit,
	}
	b, _ := json.Marshal(doc) // JSON is YAML
	cfg, err := config.Load(string(b))
	if err != nil {
		t.Fatalf("the AlertmanagerConfig does not load as an Alertmanager configuration: %v\n%s", err, b)
	}
	return cfg
}

// secretFields are the SecretKeySelector fields and the *_file field each
// stands for.
var secretFields = map[string]string{
	"apiURL": "api_url_file", "webhookURL": "webhook_url_file", "webhookUrl": "webhook_url_file",
	"urlSecret": "url_file", "routingKey": "routing_key_file",
}

func convert(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := x["name"].(string); ok {
			if mt, ok := x["matchType"].(string); ok {
				value, _ := x["value"].(string)
				return name + mt + strconv.Quote(value)
			}
		}
		out := map[string]any{}
		for k, fv := range x {
			if f, ok := secretFields[k]; ok {
				out[f] = "/etc/alertmanager/secrets/flagger/" + fv.(map[string]any)["key"].(string)
				continue
			}
			out[snake(k)] = convert(fv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = convert(e)
		}
		return out
	}
	return v
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
