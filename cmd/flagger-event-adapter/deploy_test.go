package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/config"
	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter/peer"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// TestDeployManifests keeps deploy/adapter consistent with the binary: the
// example config loads, the flags point at the mounted Secret, and the pod
// runs locked down with probes and resources.
func TestDeployManifests(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "deploy", "adapter")
	if _, err := config.Load(filepath.Join(dir, "config.yml")); err != nil {
		t.Fatalf("example config: %v", err)
	}
	var kust struct {
		SecretGenerator []struct {
			Name  string
			Files []string
		} `yaml:"secretGenerator"`
	}
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	if len(kust.SecretGenerator) != 1 || kust.SecretGenerator[0].Files[0] != "flagger-event-adapter.yml=config.yml" {
		t.Fatalf("secretGenerator: %+v", kust.SecretGenerator)
	}

	var dep struct {
		Metadata struct{ Name string }
		Spec     struct {
			Replicas    int
			ServiceName string `yaml:"serviceName"`
			Template    struct {
				Spec struct {
					AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
					SecurityContext              struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
					} `yaml:"securityContext"`
					Containers []struct {
						Args  []string
						Ports []struct {
							ContainerPort int `yaml:"containerPort"`
						}
						LivenessProbe   map[string]any `yaml:"livenessProbe"`
						ReadinessProbe  map[string]any `yaml:"readinessProbe"`
						Resources       struct{ Requests, Limits map[string]string }
						SecurityContext struct {
							AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
							ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
						} `yaml:"securityContext"`
						VolumeMounts []struct {
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Secret struct {
							SecretName string `yaml:"secretName"`
						}
					}
				}
			}
		}
	}
	readYAML(t, filepath.Join(dir, "statefulset.yaml"), &dep)
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if !pod.SecurityContext.RunAsNonRoot || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation ||
		!c.SecurityContext.ReadOnlyRootFilesystem || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod must run as non-root, read-only, without privilege escalation or API token")
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Error("probes and requests/limits are required")
	}
	args := strings.Join(c.Args, " ")
	want := "--config.file=" + c.VolumeMounts[0].MountPath + "/flagger-event-adapter.yml"
	if !strings.Contains(args, want) || pod.Volumes[0].Secret.SecretName != kust.SecretGenerator[0].Name {
		t.Errorf("args %q do not read the mounted Secret (%s)", args, want)
	}
	if !strings.Contains(args, "--web.listen-address=:9099") || c.Ports[0].ContainerPort != 9099 {
		t.Errorf("listen address and container port disagree: %q %+v", args, c.Ports)
	}
	// The replicas share one window only if each lists every pod, by the
	// name the headless Service gives it, and finds itself among them.
	var peers []string
	for _, a := range c.Args {
		if p, ok := strings.CutPrefix(a, "--cluster.peer="); ok {
			peers = append(peers, p)
		}
	}
	if dep.Spec.Replicas < 2 || len(peers) != dep.Spec.Replicas {
		t.Fatalf("%d replicas, %d --cluster.peer flags: want one per replica, at least two", dep.Spec.Replicas, len(peers))
	}
	for i, p := range peers {
		if want := fmt.Sprintf("http://%s-%d.%s:9099", dep.Metadata.Name, i, dep.Spec.ServiceName); p != want {
			t.Errorf("peer %d is %s, want %s", i, p, want)
		}
		host := strings.SplitN(strings.TrimPrefix(p, "http://"), ".", 2)[0]
		if _, err := peer.NewRing(peers, "", host); err != nil {
			t.Errorf("pod %s does not find itself among the peers: %v", host, err)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
