package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	testVersion  = "v9.8.7-test"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	versionPkg   = "github.com/prometheus/common/version"
)

var binaries = []string{"flagger-exporter", "flagger-event-adapter"}

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// repoRoot is the root module: tools/image is two levels down.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "flagger-exporter")); err != nil {
		t.Fatalf("repository root not found from tools/image: %v", err)
	}
	return root
}

// staticBinaries builds both commands once per test run, the way the
// Makefile's image target does: static, linux/amd64, trimmed, versioned.
func staticBinaries(t *testing.T) map[string]string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "image-test-bin-")
		if buildErr != nil {
			return
		}
		ldflags := "-s -w -X " + versionPkg + ".Version=" + testVersion +
			" -X " + versionPkg + ".Revision=" + testRevision + " -X " + versionPkg + ".Branch=main"
		for _, b := range binaries {
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags,
				"-o", filepath.Join(builtDir, b), "./cmd/"+b)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = errors.New("go build ./cmd/" + b + ": " + err.Error() + "\n" + string(out))
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	m := map[string]string{}
	for _, b := range binaries {
		m[b] = filepath.Join(builtDir, b)
	}
	return m
}

// buildImage runs the command's own code path (flag parsing included).
func buildImage(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("image %q: %v\n%s", args, err, stderr.String())
	}
	t.Logf("%s", stdout.String())
	return stdout.String()
}

type want struct {
	name     string
	version  string // "" in IMAGE_DIR mode: any non-empty label
	revision string
	tags     []string
	binary   string // the packed binary, to compare; "" in IMAGE_DIR mode
}

type layerFile struct {
	hdr  *tar.Header
	body []byte
}

// checkTarball reads path back as a consumer would and checks the image.
// It returns the image digest.
func checkTarball(t *testing.T, path string, w want) v1.Hash {
	t.Helper()
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("%s: invalid image: %v", path, err)
	}
	for _, tag := range w.tags {
		ref, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tarball.ImageFromPath(path, &ref); err != nil {
			t.Errorf("%s: tag %s: %v", path, tag, err)
		}
	}
	checkRepoTags(t, path, w.tags)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532 (non-root)", c.User)
	}
	if got := strings.Join(c.Entrypoint, " "); got != "/bin/"+w.name {
		t.Errorf("Entrypoint = %q, want /bin/%s", got, w.name)
	}
	if len(c.Cmd) != 0 {
		t.Errorf("Cmd = %q, want none", c.Cmd)
	}
	if c.WorkingDir != "/" {
		t.Errorf("WorkingDir = %q", c.WorkingDir)
	}
	port := Known[w.name].Port
	if _, ok := c.ExposedPorts[port]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts = %v, want only %s", c.ExposedPorts, port)
	}
	labels := map[string]string{
		"org.opencontainers.image.title":    w.name,
		"org.opencontainers.image.source":   DefaultSource,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.version":  w.version,
		"org.opencontainers.image.revision": w.revision,
	}
	for k, v := range labels {
		got, ok := c.Labels[k]
		if !ok || got == "" || (v != "" && got != v) {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if c.Labels["org.opencontainers.image.description"] == "" {
		t.Error("no description label")
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	files := readLayer(t, layers[0])

	bin, ok := files["/bin/"+w.name]
	if !ok {
		t.Fatalf("/bin/%s not in the layer", w.name)
	}
	h := bin.hdr
	if h.Typeflag != tar.TypeReg || h.Mode != 0o755 || h.Uid != NonrootUID || h.Gid != NonrootUID {
		t.Errorf("/bin/%s: type %c mode %o owner %d:%d, want regular 0755 65532:65532",
			w.name, h.Typeflag, h.Mode, h.Uid, h.Gid)
	}
	if w.binary != "" {
		src, err := os.ReadFile(w.binary)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bin.body, src) {
			t.Errorf("/bin/%s differs from %s", w.name, w.binary)
		}
	}
	if !strings.Contains(string(files["/etc/passwd"].body), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd lacks nonroot 65532:\n%s", files["/etc/passwd"].body)
	}
	if !strings.Contains(string(files["/etc/group"].body), "nonroot:x:65532:") {
		t.Errorf("/etc/group lacks nonroot 65532:\n%s", files["/etc/group"].body)
	}
	if tmp, ok := files["/tmp"]; !ok || tmp.hdr.Typeflag != tar.TypeDir || tmp.hdr.Mode != 0o1777 {
		t.Errorf("/tmp missing or not a sticky world-writable directory")
	}
	checkCABundle(t, files["/"+CABundlePath].body)
	for p, f := range files {
		if !f.hdr.ModTime.Equal(cf.Created.Time) {
			t.Errorf("%s: mtime %v, want the image's created time %v", p, f.hdr.ModTime, cf.Created.Time)
		}
	}

	runVersion(t, w.name, bin.body, c.Labels["org.opencontainers.image.version"])
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkRepoTags reads manifest.json: the tags docker load and kind apply.
func checkRepoTags(t *testing.T, path string, tags []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no manifest.json: %v", path, err)
		}
		if h.Name != "manifest.json" {
			continue
		}
		var m tarball.Manifest
		if err := json.NewDecoder(tr).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 {
			t.Fatalf("manifest.json lists %d images, want 1", len(m))
		}
		if got := strings.Join(m[0].RepoTags, " "); got != strings.Join(tags, " ") {
			t.Errorf("RepoTags = %s, want %s", got, strings.Join(tags, " "))
		}
		return
	}
}

func readLayer(t *testing.T, l v1.Layer) map[string]layerFile {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]layerFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		p := "/" + strings.TrimSuffix(h.Name, "/")
		if _, dup := files[p]; dup {
			t.Errorf("%s twice in the layer", p)
		}
		files[p] = layerFile{h, body}
	}
	return files
}

func checkCABundle(t *testing.T, pemData []byte) {
	t.Helper()
	n := 0
	for rest := pemData; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("CA bundle certificate %d: %v", n, err)
		}
	}
	if n < 100 {
		t.Errorf("CA bundle has %d certificates, want the Mozilla roots (>100)", n)
	}
}

// runVersion writes the binary taken from the layer to a temporary file and
// runs it with --version: the packed bytes are a working program.
func runVersion(t *testing.T, binName string, bin []byte, version string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Logf("not running /bin/%s: host is %s/%s", binName, runtime.GOOS, runtime.GOARCH)
		return
	}
	p := filepath.Join(t.TempDir(), binName)
	if err := os.WriteFile(p, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("/bin/%s --version: %v\n%s", binName, err, out)
	}
	if !strings.Contains(string(out), binName+", version "+version) {
		t.Errorf("/bin/%s --version printed %q; want it to name %s and version %s", binName, out, binName, version)
	}
}

func tagsFor(binName, version string) []string {
	return []string{DefaultRepo + "/" + binName + ":" + version, DefaultRepo + "/" + binName + ":latest"}
}

// TestImages builds both images as `make image` does and checks them.
func TestImages(t *testing.T) {
	bins := staticBinaries(t)
	dir := t.TempDir()
	for _, b := range binaries {
		t.Run(b, func(t *testing.T) {
			out := filepath.Join(dir, b+".tar")
			buildImage(t, "--binary", bins[b], "--name", b, "--version", testVersion,
				"--revision", testRevision, "--source", DefaultSource, "--out", out)
			checkTarball(t, out, want{b, testVersion, testRevision, tagsFor(b, testVersion), bins[b]})
		})
	}
}

// TestReproducible: the same binary gives the same image digest and the
// same tarball bytes, whatever the binary's path or the output file.
func TestReproducible(t *testing.T) {
	bins := staticBinaries(t)
	b := "flagger-event-adapter"
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "copy", b)
	data, err := os.ReadFile(bins[b])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(copyPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, data, 0o700); err != nil {
		t.Fatal(err)
	}
	var digests []v1.Hash
	var tarballs [][]byte
	for i, bin := range []string{bins[b], copyPath} {
		out := filepath.Join(dir, "out"+string(rune('a'+i)), b+".tar")
		buildImage(t, "--binary", bin, "--version", testVersion, "--revision", testRevision, "--out", out)
		digests = append(digests, checkTarball(t, out, want{b, testVersion, testRevision, tagsFor(b, testVersion), bins[b]}))
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		tarballs = append(tarballs, raw)
	}
	if digests[0] != digests[1] {
		t.Errorf("image digests differ: %s, %s", digests[0], digests[1])
	}
	if !bytes.Equal(tarballs[0], tarballs[1]) {
		t.Error("tarball bytes differ between two builds of the same binary")
	}

	// SOURCE_DATE_EPOCH moves every timestamp, and so the digest.
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out := filepath.Join(dir, "epoch", b+".tar")
	buildImage(t, "--binary", bins[b], "--version", testVersion, "--revision", testRevision, "--out", out)
	d := checkTarball(t, out, want{b, testVersion, testRevision, tagsFor(b, testVersion), bins[b]})
	img, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Created.Unix(); got != 1700000000 {
		t.Errorf("created = %v, want SOURCE_DATE_EPOCH 1700000000", cf.Created)
	}
	if d == digests[0] {
		t.Error("SOURCE_DATE_EPOCH did not change the digest")
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "flagger-exporter")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	type rejectCase struct {
		args []string
		env  string // SOURCE_DATE_EPOCH
		msg  string // part of the error
	}
	cases := map[string]rejectCase{
		"no binary":    {args: nil, msg: "--binary is required"},
		"not ELF":      {args: []string{"--binary", script}, msg: "not a linux (ELF) binary"},
		"missing file": {args: []string{"--binary", filepath.Join(dir, "nope")}, msg: "no such file"},
		"bad tag":      {args: []string{"--binary", script, "--tag", "a:b"}, msg: "tag"},
		"bad epoch":    {args: []string{"--binary", script}, env: "yesterday", msg: "SOURCE_DATE_EPOCH"},
		"stray args":   {args: []string{"--binary", script, "extra"}, msg: "unexpected arguments"},
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		// The host's own /bin/sh is an amd64 ELF but dynamically linked.
		if sh, err := filepath.EvalSymlinks("/bin/sh"); err == nil {
			cases["dynamic"] = rejectCase{args: []string{"--binary", sh, "--name", "sh"}, msg: "dynamically linked"}
			cases["wrong arch"] = rejectCase{args: []string{"--binary", sh, "--name", "sh", "--arch", "arm64"}, msg: "want"}
		}
	}
	for n, c := range cases {
		t.Run(n, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", c.env)
			out := filepath.Join(t.TempDir(), "x.tar")
			err := run(append(c.args, "--out", out), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want one containing %q", err, c.msg)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written despite the error", out)
			}
		})
	}
}

func TestTagFor(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":            "v1.2.3",
		"v1.2.3-4-gabcdef0": "v1.2.3-4-gabcdef0",
		"162c262-dirty":     "162c262-dirty",
		"v1.2.3+build.5":    "v1.2.3-build.5",
		"":                  "latest",
		".hidden":           "hidden",
	} {
		if got := TagFor(in); got != want {
			t.Errorf("TagFor(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKnownPorts keeps the exposed ports in step with the default listen
// addresses in cmd/<name>/main.go.
func TestKnownPorts(t *testing.T) {
	root := repoRoot(t)
	re := regexp.MustCompile(`kingpinflag\.AddFlags\(app, ":(\d+)"\)`)
	for _, b := range binaries {
		src, err := os.ReadFile(filepath.Join(root, "cmd", b, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(src)
		if m == nil {
			t.Fatalf("cmd/%s/main.go: no kingpinflag.AddFlags(app, \":PORT\")", b)
		}
		if want := string(m[1]) + "/tcp"; Known[b].Port != want {
			t.Errorf("Known[%q].Port = %q, but cmd/%s listens on %s by default", b, Known[b].Port, b, want)
		}
	}
}

// TestDeployImageNames: the kustomizations point at the names and tag that
// `make image` writes into the tarballs.
func TestDeployImageNames(t *testing.T) {
	root := repoRoot(t)
	for file, b := range map[string]string{
		"deploy/exporter/kustomization.yaml":            "flagger-exporter",
		"deploy/exporter/namespaced/kustomization.yaml": "flagger-exporter",
		"deploy/adapter/kustomization.yaml":             "flagger-event-adapter",
	} {
		src, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		s := string(src)
		for _, line := range []string{
			"- name: " + b,
			"newName: " + DefaultRepo + "/" + b,
			"newTag: latest",
		} {
			if !strings.Contains(s, line) {
				t.Errorf("%s: no %q in its images:", file, line)
			}
		}
	}
}

// TestImageDir checks the tarballs `make image` wrote, when IMAGE_DIR
// names their directory (make test-image sets it).
func TestImageDir(t *testing.T) {
	dir := os.Getenv("IMAGE_DIR")
	if dir == "" {
		t.Skip("IMAGE_DIR not set")
	}
	for _, b := range binaries {
		t.Run(b, func(t *testing.T) {
			path := filepath.Join(dir, b+".tar")
			img, err := tarball.ImageFromPath(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			v := cf.Config.Labels["org.opencontainers.image.version"]
			checkTarball(t, path, want{name: b, tags: tagsFor(b, TagFor(v))})
		})
	}
}
