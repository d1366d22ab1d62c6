// Package harness runs a real Kubernetes control plane inside a test
// process: an embedded etcd and a full kube-apiserver (the same code as the
// released binary), with CRDs, kubeconfigs for child processes, kubectl and
// ServiceAccount impersonation for RBAC tests.
package harness

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	etcdclient "go.etcd.io/etcd/client/v3/kubernetes"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// Cluster is one running control plane.
type Cluster struct {
	// Config is a cluster-admin client config (client certificate in group
	// system:masters). It stays valid across Stop/Start.
	Config *rest.Config
	// Kubeconfig is a file holding Config, for kubectl and child processes.
	Kubeconfig string

	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface
	APIExt     apiextclient.Interface
	dir        string
	pki        *pki
	fwd        *forwarder
	etcd       *etcdclient.Client
	storage    *storagebackend.Config
	server     *kubeapiservertesting.TestServer
	klogOutput *klogCapture
}

// Start brings up etcd and the API server and registers their teardown with
// t.Cleanup. Flagger's Canary CRD is not installed: call InstallCRDs.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{dir: t.TempDir(), klogOutput: captureKlog(t)}
	var err error
	if c.pki, err = newPKI(c.dir); err != nil {
		t.Fatalf("harness: pki: %v", err)
	}

	c.etcd = testserver.RunEtcd(t, testserver.NewTestConfig(t))
	// RunEtcd leaves its client open (three goroutines per server).
	t.Cleanup(func() { c.etcd.Close() })
	c.storage = storagebackend.NewDefaultConfig("/registry", nil)
	c.storage.Transport.ServerList = c.etcd.Endpoints()

	if c.fwd, err = newForwarder(); err != nil {
		t.Fatalf("harness: forwarder: %v", err)
	}
	t.Cleanup(c.fwd.close)

	c.Config = &rest.Config{
		Host: "https://" + c.fwd.addr(),
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.pki.caPEM,
			CertData: c.pki.adminCertPEM,
			KeyData:  c.pki.adminKeyPEM,
		},
		QPS:   1000,
		Burst: 2000,
	}
	c.Kubeconfig = c.WriteKubeconfig(t, "admin", c.Config)
	c.Kube = kubernetes.NewForConfigOrDie(c.Config)
	c.Dynamic = dynamic.NewForConfigOrDie(c.Config)
	c.APIExt = apiextclient.NewForConfigOrDie(c.Config)

	c.StartAPIServer(t)
	t.Cleanup(func() { c.StopAPIServer(t) })
	return c
}

// StartAPIServer starts an API server instance on the existing etcd and
// points the stable address at it. Start calls it; tests call it again after
// StopAPIServer to simulate an API server restart.
func (c *Cluster) StartAPIServer(t testing.TB) {
	t.Helper()
	if c.server != nil {
		t.Fatal("harness: API server already running")
	}
	flags := []string{
		"--authorization-mode=RBAC",
		"--client-ca-file=" + c.pki.caFile,
		"--tls-cert-file=" + c.pki.serverCert,
		"--tls-private-key-file=" + c.pki.serverKey,
	}
	opts := &kubeapiservertesting.TestServerInstanceOptions{DisableInvariantChecks: true}
	srv, err := kubeapiservertesting.StartTestServer(t, opts, flags, c.storage)
	if err != nil {
		t.Fatalf("harness: start kube-apiserver: %v", err)
	}
	c.server = &srv
	u, err := url.Parse(srv.ClientConfig.Host)
	if err != nil || u.Host == "" {
		t.Fatalf("harness: unexpected API server address %q", srv.ClientConfig.Host)
	}
	c.fwd.setBackend(u.Host)
}

// StopAPIServer stops the current API server instance; etcd keeps the data.
// Clients see connections cut and new ones closed until StartAPIServer.
func (c *Cluster) StopAPIServer(t testing.TB) {
	t.Helper()
	if c.server == nil {
		return
	}
	c.fwd.setBackend("")
	c.server.TearDownFn()
	c.server = nil
}

// WriteKubeconfig writes cfg (host, TLS, impersonation) as a kubeconfig file
// named name in the cluster's temp dir and returns its path.
func (c *Cluster) WriteKubeconfig(t testing.TB, name string, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Impersonate:           cfg.Impersonate.UserName,
		ImpersonateGroups:     cfg.Impersonate.Groups,
	}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "test", AuthInfo: name}
	kc.CurrentContext = name
	path := filepath.Join(c.dir, name+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatalf("harness: write kubeconfig: %v", err)
	}
	return path
}

// AsServiceAccount returns a client config that acts as the ServiceAccount
// namespace/name through impersonation, with the groups the API server gives
// real ServiceAccount tokens, so RBAC is evaluated as for a pod.
func (c *Cluster) AsServiceAccount(namespace, name string) *rest.Config {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
	return cfg
}

// Dir is a temp dir that lives as long as the cluster.
func (c *Cluster) Dir() string { return c.dir }

func mustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
