package adapter_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/flagger-monitoring/flagger-monitoring/alertmanager/adapter"
	"github.com/flagger-monitoring/flagger-monitoring/internal/testutil"
)

// seen is what a target got in one request.
type seen struct {
	body                 []byte
	signature, idemp, ua string
}

func recordingTarget(t *testing.T, code int) (*httptest.Server, <-chan seen) {
	got := make(chan seen, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{b, r.Header.Get("X-Signature"), r.Header.Get("Idempotency-Key"), r.Header.Get("User-Agent")}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// newLoggedEnv is newEnv with the adapter's log kept, to check what it holds.
func newLoggedEnv(t *testing.T, cfg string) (*env, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	return startEnv(t, cfg, adapter.Options{Logger: log.NewLogfmtLogger(logs)}, httptest.NewUnstartedServer(nil)), logs
}

// A target with hmac_key_file gets Flux generic-hmac's X-Signature over the
// exact body; every request carries the event's Idempotency-Key, the same
// from two adapter replicas; the key never reaches the log, not even when
// the target refuses the signature or the file goes missing on reload.
func TestSignedRequestsAndIdempotencyKey(t *testing.T) {
	const key = "s3cr3t-hmac-key"
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "hmac-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil { // kubectl --from-file keeps the newline
		t.Fatal(err)
	}
	target, got := recordingTarget(t, http.StatusAccepted)
	cfg := "targets: [{name: signed, url: '" + target.URL + "', hmac_key_file: '" + keyFile + "'}]"
	replicas := [2]*env{}
	var logs [2]*testutil.SyncBuffer
	for i := range replicas {
		replicas[i], logs[i] = newLoggedEnv(t, cfg)
	}

	body := group(1, 1, 1)
	var keys []string
	for _, e := range replicas {
		if code, resp := post(t, e.webhookURL(), body); code != http.StatusOK {
			t.Fatalf("%d %s", code, resp)
		}
		s := <-got
		m := hmac.New(sha256.New, []byte(key))
		m.Write(s.body)
		if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); s.signature != want {
			t.Errorf("X-Signature %q, want %q (HMAC-SHA256 of the body, key without its newline)", s.signature, want)
		}
		if len(s.idemp) != 16 {
			t.Errorf("Idempotency-Key %q", s.idemp)
		}
		keys = append(keys, s.idemp)
	}
	if keys[0] != keys[1] {
		t.Errorf("two replicas sent one event under different keys: %v", keys)
	}
	if code, _ := post(t, replicas[0].webhookURL(), group(2, 1, 1)); code != http.StatusOK {
		t.Fatal(code)
	}
	if s := <-got; s.idemp == keys[0] {
		t.Error("another alert got the same Idempotency-Key")
	}

	// A target refusing the signature (401) and a reload without the file.
	refusing, _ := recordingTarget(t, http.StatusUnauthorized)
	replicas[0].write(t, "targets: [{name: signed, url: '"+refusing.URL+"', hmac_key_file: '"+keyFile+"'}]")
	if code, resp := post(t, replicas[0].srv.URL+"/-/reload", nil); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, resp)
	}
	if code, resp := post(t, replicas[0].webhookURL(), group(3, 1, 1)); code != http.StatusOK || !strings.Contains(resp, `"refused":1`) {
		t.Errorf("a 401 is final: %d %s", code, resp)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	code, resp := post(t, replicas[0].srv.URL+"/-/reload", nil)
	if code != http.StatusInternalServerError || !strings.Contains(resp, "hmac_key_file") {
		t.Errorf("reload without the key file: %d %s", code, resp)
	}
	for i, l := range logs {
		if strings.Contains(l.String(), key) || strings.Contains(resp, key) {
			t.Errorf("replica %d logged the HMAC key:\n%s", i, l.String())
		}
	}
	if !strings.Contains(logs[0].String(), "hmac_key_file") {
		t.Errorf("the failed reload is not logged:\n%s", logs[0].String())
	}
}

func TestHMACKeyFileRefusedWhenEmpty(t *testing.T) {
	f := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(f, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "adapter.yml")
	if err := os.WriteFile(cfg, []byte("targets: [{name: a, url: 'http://x', hmac_key_file: '"+f+"'}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := adapter.New(adapter.Options{ConfigFile: cfg}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty key file: %v", err)
	}
}

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files.
type pki struct {
	dir  string
	pool *x509.CertPool
	ca   *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	p.key = newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.pool.AddCert(p.ca)
	p.write(t, "ca.crt", "CERTIFICATE", der)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// issue writes name.crt and name.key signed by the CA and returns the pair.
func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) tls.Certificate {
	k := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, name+".crt", "CERTIFICATE", der)
	p.write(t, name+".key", "EC PRIVATE KEY", kder)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// tlsTarget is an HTTPS target; with clientCAs it requires a client
// certificate they signed.
func tlsTarget(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if clientCAs != nil && (r.TLS == nil || len(r.TLS.PeerCertificates) == 0) {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAs != nil {
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// Targets over TLS verified against a CA file, and with mutual TLS: a
// missing client certificate or an unknown server CA is a transport
// failure (503, so Alertmanager retries once the config is fixed), and a
// reload that fixes it delivers.
func TestTargetTLSAndMutualTLS(t *testing.T) {
	p := newPKI(t)
	server := p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	p.issue(t, "client", x509.ExtKeyUsageClientAuth)
	other := newPKI(t) // a CA the targets do not trust

	plainTLS := tlsTarget(t, server, nil)
	mutual := tlsTarget(t, server, p.pool)
	ca := filepath.Join(p.dir, "ca.crt")
	cert, key := filepath.Join(p.dir, "client.crt"), filepath.Join(p.dir, "client.key")

	for _, c := range []struct {
		name, url, tlsConfig string
		ok                   bool
	}{
		{"TLS, CA file", plainTLS.URL, "{ca_file: '" + ca + "'}", true},
		{"TLS, unknown CA", plainTLS.URL, "{ca_file: '" + filepath.Join(other.dir, "ca.crt") + "'}", false},
		{"mTLS, client certificate", mutual.URL, "{ca_file: '" + ca + "', cert_file: '" + cert + "', key_file: '" + key + "'}", true},
		{"mTLS, no client certificate", mutual.URL, "{ca_file: '" + ca + "'}", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "targets: [{name: tls, url: '"+c.url+"', max_retries: 0, http_config: {tls_config: "+c.tlsConfig+"}}]")
			code, resp := post(t, e.webhookURL(), group(1, 1, 1))
			switch {
			case c.ok && (code != http.StatusOK || !strings.Contains(resp, `"delivered":1`)):
				t.Errorf("want delivered: %d %s", code, resp)
			case !c.ok && (code != http.StatusServiceUnavailable || !strings.Contains(resp, `"reason":"transport"`)):
				t.Errorf("want 503 with a transport failure: %d %s", code, resp)
			}
		})
	}
}
