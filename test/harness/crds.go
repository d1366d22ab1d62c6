package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// PrometheusOperatorVersion is the prometheus-operator release whose CRDs
// (PrometheusRule, AlertmanagerConfig, ServiceMonitor) the tests install. They
// are read from its Go module zip rather than copied into this repository.
const PrometheusOperatorVersion = "v0.85.0"

// CanaryCRD is the path of Flagger's canaries.flagger.app CRD fixture.
func CanaryCRD() string { return filepath.Join(TestData(), "crds", "flagger-canary.yaml") }

// TestData is the test module's testdata directory.
func TestData() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// PrometheusOperatorCRD returns the path of one of prometheus-operator's CRD
// files, e.g. "monitoring.coreos.com_prometheusrules.yaml", downloading the
// module into the module cache if needed.
func PrometheusOperatorCRD(t testing.TB, file string) string {
	t.Helper()
	dir := moduleDir(t, "", "github.com/prometheus-operator/prometheus-operator@"+PrometheusOperatorVersion)
	return filepath.Join(dir, "example", "prometheus-operator-crd", file)
}

// moduleDir downloads module@version into the module cache if needed (as the
// Go command run in dir resolves it) and returns its directory.
func moduleDir(t testing.TB, dir, module string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("harness: go mod download %s: %v", module, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("harness: go mod download %s: %v %s", module, err, mod.Error)
	}
	return mod.Dir
}

// InstallCRDs creates every CustomResourceDefinition in the YAML files and
// waits until each is Established and servable. Install CRDs once per
// cluster: the first create of a custom resource within 2 s of its CRD
// becoming Established waits those 2 s.
func (c *Cluster) InstallCRDs(t testing.TB, files ...string) []*apiextv1.CustomResourceDefinition {
	t.Helper()
	var crds []*apiextv1.CustomResourceDefinition
	for _, f := range files {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(mustReadFile(t, f)), 4096)
		for {
			crd := &apiextv1.CustomResourceDefinition{}
			if err := dec.Decode(crd); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("harness: decode %s: %v", f, err)
			}
			if crd.Name == "" {
				continue
			}
			created, err := c.APIExt.ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), crd, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("harness: create CRD %s: %v", crd.Name, err)
			}
			if err == nil {
				crds = append(crds, created)
			}
		}
	}
	for _, crd := range crds {
		if err := c.waitEstablished(crd.Name); err != nil {
			t.Fatalf("harness: CRD %s: %v", crd.Name, err)
		}
	}
	return crds
}

func (c *Cluster) waitEstablished(name string) error {
	return wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 30*time.Second, true,
		func(ctx context.Context) (bool, error) {
			crd, err := c.APIExt.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextv1.Established && cond.Status == apiextv1.ConditionTrue {
					return true, nil
				}
				if cond.Type == apiextv1.NamesAccepted && cond.Status == apiextv1.ConditionFalse {
					return false, fmt.Errorf("names not accepted: %s", cond.Message)
				}
			}
			return false, nil
		})
}
