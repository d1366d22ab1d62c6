package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
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
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
	for _, d := range []string{builtDir, tinyDir} {
		if d != "" {
			os.RemoveAll(d)
		}
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

var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
)

// tinySource stands in for the commands in the multi-arch tests: building
// the real ones for arm64 would compile all their dependencies (client-go)
// for a second architecture. It answers --version the way
// prometheus/common/version does, so runVersion can check it.
const tinySource = `package main

import (
	"fmt"
	"os"
	"path/filepath"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Printf("%s, version %s (tools/image test program)\\n", filepath.Base(os.Args[0]), version)
		return
	}
	fmt.Println("hello")
}
`

// tinyBinaries builds tinySource once per test run, static and trimmed,
// for each supported GOARCH, and returns GOARCH -> path.
func tinyBinaries(t *testing.T) map[string]string {
	t.Helper()
	arches := []string{"amd64", "arm64"}
	tinyOnce.Do(func() {
		tinyDir, tinyErr = os.MkdirTemp("", "image-test-tiny-")
		if tinyErr != nil {
			return
		}
		src := filepath.Join(tinyDir, "src")
		if tinyErr = os.MkdirAll(src, 0o755); tinyErr != nil {
			return
		}
		if tinyErr = os.WriteFile(filepath.Join(src, "go.mod"), []byte("module tiny\n\ngo 1.22\n"), 0o644); tinyErr != nil {
			return
		}
		if tinyErr = os.WriteFile(filepath.Join(src, "main.go"), []byte(tinySource), 0o644); tinyErr != nil {
			return
		}
		for _, arch := range arches {
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion,
				"-o", filepath.Join(tinyDir, "linux-"+arch, "tiny"), ".")
			cmd.Dir = src
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOWORK=off", "GOFLAGS=")
			if out, err := cmd.CombinedOutput(); err != nil {
				tinyErr = errors.New("go build tiny for " + arch + ": " + err.Error() + "\n" + string(out))
				return
			}
		}
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	m := map[string]string{}
	for _, arch := range arches {
		m[arch] = filepath.Join(tinyDir, "linux-"+arch, "tiny")
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
	// binaries: GOARCH -> the binary packed for linux/GOARCH, to compare
	// with the images of an OCI layout; nil in IMAGE_DIR mode.
	binaries map[string]string
}

// wantPlatforms is the index's manifest list, in order.
var wantPlatforms = []string{"linux/amd64", "linux/arm64/v8"}

// checkLayout reads the OCI layout dir back as a consumer would: index.json
// names one image index, by ref.name w.tags[0]'s tag, listing one image per
// platform, each checked by checkImage. It returns the index digest and the
// images by GOARCH.
func checkLayout(t *testing.T, dir string, w want) (v1.Hash, map[string]v1.Image) {
	t.Helper()
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatalf("%s: index.json: %v", dir, err)
	}
	if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		if want := os.FileMode(0o644); !d.IsDir() && st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Manifests) != 1 {
		t.Fatalf("%s: index.json lists %d descriptors, want 1 (the image index)", dir, len(tm.Manifests))
	}
	desc := tm.Manifests[0]
	if desc.MediaType != types.OCIImageIndex {
		t.Errorf("%s: index.json names a %s, want an OCI image index", dir, desc.MediaType)
	}
	tag := w.tags[0][strings.LastIndex(w.tags[0], ":")+1:]
	if got := desc.Annotations[RefNameAnnotation]; got != tag {
		t.Errorf("%s: %s = %q, want %q", dir, RefNameAnnotation, got, tag)
	}
	idx, err := top.ImageIndex(desc.Digest)
	if err != nil {
		t.Fatalf("%s: index %s: %v", dir, desc.Digest, err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("%s: invalid index: %v", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex {
		t.Errorf("%s: index media type %s", dir, im.MediaType)
	}
	annotations := map[string]string{
		"org.opencontainers.image.title":    w.name,
		"org.opencontainers.image.source":   DefaultSource,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.version":  w.version,
		"org.opencontainers.image.revision": w.revision,
	}
	for k, v := range annotations {
		got, ok := im.Annotations[k]
		if !ok || got == "" || (v != "" && got != v) {
			t.Errorf("%s: index annotation %s = %q, want %q", dir, k, got, v)
		}
	}
	if im.Annotations["org.opencontainers.image.description"] == "" {
		t.Errorf("%s: no description annotation on the index", dir)
	}
	var platforms []string
	for _, m := range im.Manifests {
		if m.Platform == nil {
			t.Fatalf("%s: manifest %s has no platform", dir, m.Digest)
		}
		platforms = append(platforms, m.Platform.String())
	}
	if got := strings.Join(platforms, " "); got != strings.Join(wantPlatforms, " ") {
		t.Fatalf("%s: index platforms %s, want %s", dir, got, strings.Join(wantPlatforms, " "))
	}
	imgs := map[string]v1.Image{}
	for _, m := range im.Manifests {
		arch := m.Platform.Architecture
		if m.ArtifactType != "" {
			t.Errorf("%s: %s manifest has artifactType %s; an image is not an artifact", dir, m.Platform, m.ArtifactType)
		}
		if m.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: %s manifest media type %s, want %s", dir, m.Platform, m.MediaType, types.OCIManifestSchema1)
		}
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(img); err != nil {
			t.Fatalf("%s: %s: invalid image: %v", dir, m.Platform, err)
		}
		checkImage(t, dir+" "+m.Platform.String(), img, w, arch, w.binaries[arch])
		imgs[arch] = img
	}
	return desc.Digest, imgs
}

// sameImage: the tarball holds the same config and layer as the index's
// linux/amd64 image (the manifests differ only in media types).
func sameImage(t *testing.T, tarPath string, img v1.Image) {
	t.Helper()
	timg, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := func(img v1.Image) string {
		c, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		s := c.String()
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			s += " " + d.String()
		}
		return s
	}
	if a, b := id(timg), id(img); a != b {
		t.Errorf("%s holds config+layers %s; the index's linux/amd64 image has %s", tarPath, a, b)
	}
}

type layerFile struct {
	hdr  *tar.Header
	body []byte
}

// checkTarball reads path back as a consumer would and checks the image
// (linux/amd64, packing w.binary). It returns the image digest.
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
	checkImage(t, path, img, w, "amd64", w.binary)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkImage checks one image, whichever container it was read from: its
// config (platform arch, user, labels) and its layer, whose /bin/<name> is
// an ELF for arch, equal to binPath's bytes unless binPath is "", and is run
// with --version when the host can.
func checkImage(t *testing.T, where string, img v1.Image, w want, arch, binPath string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	wantVariant := map[string]string{"arm64": "v8"}[arch]
	if cf.OS != "linux" || cf.Architecture != arch || cf.Variant != wantVariant {
		t.Errorf("%s: platform %s/%s/%s, want linux/%s/%s", where, cf.OS, cf.Architecture, cf.Variant, arch, wantVariant)
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
	if binPath != "" {
		src, err := os.ReadFile(binPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bin.body, src) {
			t.Errorf("%s: /bin/%s differs from %s", where, w.name, binPath)
		}
	}
	if f, err := elf.NewFile(bytes.NewReader(bin.body)); err != nil {
		t.Errorf("%s: /bin/%s is not ELF: %v", where, w.name, err)
	} else if want := elfMachine[arch]; f.Machine != want {
		t.Errorf("%s: /bin/%s is for %v, want %v (%s)", where, w.name, f.Machine, want, arch)
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

	runVersion(t, w.name, arch, bin.body, c.Labels["org.opencontainers.image.version"])
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
func runVersion(t *testing.T, binName, arch string, bin []byte, version string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != arch {
		t.Logf("not running the linux/%s /bin/%s: host is %s/%s", arch, binName, runtime.GOOS, runtime.GOARCH)
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
			checkTarball(t, out, want{b, testVersion, testRevision, tagsFor(b, testVersion), bins[b], nil})
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
		digests = append(digests, checkTarball(t, out, want{b, testVersion, testRevision, tagsFor(b, testVersion), bins[b], nil}))
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
	d := checkTarball(t, out, want{b, testVersion, testRevision, tagsFor(b, testVersion), bins[b], nil})
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

// TestImageDir checks what `make image` wrote, when IMAGE_DIR names its
// directory (make test-image sets it): <name>.tar docker-save tarballs
// and/or <name>/ OCI layouts; when both are there, they hold the same
// linux/amd64 image.
func TestImageDir(t *testing.T) {
	dir := os.Getenv("IMAGE_DIR")
	if dir == "" {
		t.Skip("IMAGE_DIR not set")
	}
	for _, b := range binaries {
		t.Run(b, func(t *testing.T) {
			tarPath := filepath.Join(dir, b+".tar")
			layoutDir := filepath.Join(dir, b)
			_, tarErr := os.Stat(tarPath)
			_, layoutErr := os.Stat(filepath.Join(layoutDir, "oci-layout"))
			if tarErr != nil && layoutErr != nil {
				t.Fatalf("neither %s nor an OCI layout %s/: %v; %v", tarPath, layoutDir, tarErr, layoutErr)
			}
			var amd64 v1.Image
			if layoutErr == nil {
				lp, err := layout.FromPath(layoutDir)
				if err != nil {
					t.Fatal(err)
				}
				top, err := lp.ImageIndex()
				if err != nil {
					t.Fatal(err)
				}
				tm, err := top.IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				v := tm.Manifests[0].Annotations[RefNameAnnotation]
				if idx, err := top.ImageIndex(tm.Manifests[0].Digest); err == nil {
					if im, err := idx.IndexManifest(); err == nil {
						v = im.Annotations["org.opencontainers.image.version"]
					}
				}
				d, imgs := checkLayout(t, layoutDir, want{name: b, tags: tagsFor(b, TagFor(v))})
				t.Logf("%s: index %s", layoutDir, d)
				amd64 = imgs["amd64"]
			}
			if tarErr == nil {
				img, err := tarball.ImageFromPath(tarPath, nil)
				if err != nil {
					t.Fatal(err)
				}
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				v := cf.Config.Labels["org.opencontainers.image.version"]
				checkTarball(t, tarPath, want{name: b, tags: tagsFor(b, TagFor(v))})
				if amd64 != nil {
					sameImage(t, tarPath, amd64)
				}
			}
		})
	}
}

// indexArgs are the flags `make image` passes for one multi-arch image.
func indexArgs(b string, bins map[string]string, outDir string) []string {
	return []string{"--name", b,
		"--binary", "linux/amd64=" + bins["amd64"], "--binary", "linux/arm64=" + bins["arm64"],
		"--version", testVersion, "--revision", testRevision,
		"--out-layout", filepath.Join(outDir, b), "--out", filepath.Join(outDir, b+".tar")}
}

// TestIndex builds both multi-arch images as `make image` does (with a
// stand-in program, see tinySource) and reads the layouts and tarballs back.
func TestIndex(t *testing.T) {
	bins := tinyBinaries(t)
	dir := t.TempDir()
	for _, b := range binaries {
		t.Run(b, func(t *testing.T) {
			buildImage(t, indexArgs(b, bins, dir)...)
			w := want{b, testVersion, testRevision, tagsFor(b, testVersion), bins["amd64"], bins}
			_, imgs := checkLayout(t, filepath.Join(dir, b), w)
			checkTarball(t, filepath.Join(dir, b+".tar"), w)
			sameImage(t, filepath.Join(dir, b+".tar"), imgs["amd64"])
		})
	}
}

// TestIndexReproducible: the same binaries give the same index digest and
// the same layout bytes, whatever the binaries' paths, the order of the
// --binary flags, stated or ELF-deduced platforms, or an old layout being
// replaced; SOURCE_DATE_EPOCH changes it.
func TestIndexReproducible(t *testing.T) {
	bins := tinyBinaries(t)
	b := "flagger-exporter"
	dir := t.TempDir()
	copies := map[string]string{}
	for arch, p := range bins {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		copies[arch] = filepath.Join(dir, "copy", arch, "bin")
		if err := os.MkdirAll(filepath.Dir(copies[arch]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(copies[arch], data, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--name", b, "--version", testVersion, "--revision", testRevision}
	runs := map[string][]string{
		"a": {"--binary", "linux/amd64=" + bins["amd64"], "--binary", "linux/arm64=" + bins["arm64"]},
		"b": {"--binary", "linux/arm64/v8=" + copies["arm64"], "--binary", "linux/amd64=" + copies["amd64"]},
		"c": {"--binary", bins["arm64"], "--binary", bins["amd64"]}, // platforms from the ELF headers
	}
	w := want{b, testVersion, testRevision, tagsFor(b, testVersion), bins["amd64"], bins}
	var first v1.Hash
	var firstTree map[string][]byte
	for _, k := range []string{"a", "b", "c", "a"} { // the second "a" replaces the first's layout
		out := filepath.Join(dir, "out"+k, b)
		buildImage(t, append(append([]string{"--out-layout", out}, common...), runs[k]...)...)
		d, _ := checkLayout(t, out, w)
		tree := readTree(t, out)
		if firstTree == nil {
			first, firstTree = d, tree
			continue
		}
		if d != first {
			t.Errorf("run %s: index digest %s, want %s", k, d, first)
		}
		if len(tree) != len(firstTree) {
			t.Errorf("run %s: %d files in the layout, want %d", k, len(tree), len(firstTree))
		}
		for p, data := range firstTree {
			if !bytes.Equal(tree[p], data) {
				t.Errorf("run %s: %s differs", k, p)
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "outa")); err != nil || len(entries) != 1 {
		t.Errorf("replacing a layout left %v (%v) in its directory, want only %s/", entries, err, b)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out := filepath.Join(dir, "epoch", b)
	buildImage(t, append(append([]string{"--out-layout", out}, common...), runs["a"]...)...)
	if d, _ := checkLayout(t, out, w); d == first {
		t.Error("SOURCE_DATE_EPOCH did not change the index digest")
	}
}

// readTree returns every regular file under dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		m[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIndexRejects: a binary whose ELF machine is not the platform stated,
// two binaries for one platform, unsupported platforms, and an output
// directory that is not a layout are refused, and nothing is written.
func TestIndexRejects(t *testing.T) {
	bins := tinyBinaries(t)
	amd, arm := bins["amd64"], bins["arm64"]
	type rejectCase struct {
		args []string
		msg  string
	}
	cases := map[string]rejectCase{
		"arm64 binary as amd64": {[]string{"--binary", "linux/amd64=" + arm, "--binary", "linux/arm64=" + arm},
			"binary is for EM_AARCH64, want EM_X86_64 for platform linux/amd64"},
		"amd64 binary as arm64": {[]string{"--binary", "linux/amd64=" + amd, "--binary", "linux/arm64=" + amd},
			"binary is for EM_X86_64, want EM_AARCH64 for platform linux/arm64"},
		"single, stated wrong": {[]string{"--binary", "linux/arm64=" + amd}, "want EM_AARCH64"},
		"arch flag, wrong":     {[]string{"--binary", amd, "--arch", "arm64"}, "want EM_AARCH64"},
		"arch flag, platforms": {[]string{"--binary", "linux/amd64=" + amd, "--arch", "amd64"}, "--arch applies to a single --binary PATH"},
		"two amd64":            {[]string{"--binary", "linux/amd64=" + amd, "--binary", amd}, "two images for linux/amd64"},
		"unsupported arch":     {[]string{"--binary", "linux/riscv64=" + amd}, "unsupported platform linux/riscv64"},
		"unsupported os":       {[]string{"--binary", "windows/amd64=" + amd}, "unsupported platform windows/amd64"},
		"unsupported variant":  {[]string{"--binary", "linux/amd64/v3=" + amd}, "unsupported platform linux/amd64/v3"},
		"empty path":           {[]string{"--binary", "linux/amd64="}, "empty path"},
	}
	for n, c := range cases {
		t.Run(n, func(t *testing.T) {
			dir := t.TempDir()
			outs := []string{filepath.Join(dir, "x"), filepath.Join(dir, "x.tar")}
			err := run(append(c.args, "--name", "x", "--out-layout", outs[0], "--out", outs[1]), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want one containing %q", err, c.msg)
			}
			for _, o := range outs {
				if _, err := os.Stat(o); !os.IsNotExist(err) {
					t.Errorf("%s written despite the error", o)
				}
			}
		})
	}

	t.Run("not a layout", func(t *testing.T) {
		dir := t.TempDir()
		keep := filepath.Join(dir, "keep")
		if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := run([]string{"--binary", "linux/amd64=" + amd, "--name", "x", "--out-layout", dir}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
			t.Fatalf("err = %v, want a refusal to replace %s", err, dir)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s now holds %v, want only keep", dir, entries)
		}
	})
}
