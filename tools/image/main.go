// Command image packs one static flagger-monitoring binary into a container
// image and writes it as a docker-save tarball, without a container engine
// and without downloading a base image.
//
// The image is built on an empty base: a single layer holds the binary at
// /bin/<name> plus the few files a static Go program and the tools around it
// expect (/etc/passwd and /etc/group naming the nonroot user 65532, a CA
// bundle for HTTPS targets, /etc/nsswitch.conf, /tmp). The result is
// reproducible: every timestamp is SOURCE_DATE_EPOCH (or 0), so the same
// binary always gives the same image digest and the same tarball bytes.
//
//	go run -C tools/image . --binary ../../bin/linux-amd64/flagger-exporter \
//	    --version v1.2.3 --revision $(git rev-parse HEAD) \
//	    --out ../../_output/images/flagger-exporter.tar
//
// The tarball is in docker-save format (manifest.json + config + gzipped
// layer), tagged <repo>/<name>:<version> and <repo>/<name>:latest; docker
// load, podman load, kind load image-archive, ctr images import and crane
// push all read it.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

const (
	// NonrootUID is the user and group the image runs as (distroless's
	// nonroot); deploy/exporter's securityContext uses the same number.
	NonrootUID = 65532
	// DefaultRepo prefixes image names; deploy/*/kustomization.yaml maps
	// the container images to flagger-monitoring/<name>:latest.
	DefaultRepo = "flagger-monitoring"
	// DefaultSource is the org.opencontainers.image.source label.
	DefaultSource = "https://github.com/flagger-monitoring/flagger-monitoring"
	// License is the org.opencontainers.image.licenses label.
	License = "Apache-2.0"
	// CABundlePath is where Go's crypto/x509 looks first on Linux.
	CABundlePath = "etc/ssl/certs/ca-certificates.crt"
)

// Known holds the per-binary defaults: the port the binary listens on by
// default (kingpinflag.AddFlags in cmd/<name>/main.go) and its description.
var Known = map[string]struct{ Port, Description string }{
	"flagger-exporter": {
		Port:        "9797/tcp",
		Description: "Prometheus exporter for Flagger canaries.",
	},
	"flagger-event-adapter": {
		Port:        "9099/tcp",
		Description: "Forwards Alertmanager webhook notifications to Flagger event-webhook consumers.",
	},
}

// Spec describes one image.
type Spec struct {
	Binary      string    // path to a static linux binary
	Name        string    // installed as /bin/<Name>; image title
	Version     string    // org.opencontainers.image.version
	Revision    string    // org.opencontainers.image.revision
	Source      string    // org.opencontainers.image.source
	Description string    // org.opencontainers.image.description
	Ports       []string  // exposed ports, "9797/tcp"
	Arch        string    // GOARCH of the binary: amd64 or arm64
	Created     time.Time // image creation time and every file's mtime; zero: Unix 0
}

var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// Build returns the image for s. It reads s.Binary once, into memory.
func Build(s Spec) (v1.Image, error) {
	if s.Name == "" || strings.ContainsAny(s.Name, "/ ") {
		return nil, fmt.Errorf("invalid name %q", s.Name)
	}
	if s.Arch == "" {
		s.Arch = "amd64"
	}
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, err
	}
	if err := checkStatic(bin, s.Arch); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Binary, err)
	}
	if s.Created.IsZero() {
		s.Created = time.Unix(0, 0)
	}
	created := s.Created.UTC().Truncate(time.Second)

	layerTar, err := rootfs(s.Name, bin, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(
		func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		// gzip level 6 (BestSpeed, the default here, is 15% bigger),
		// compressed once rather than for each of Digest, Size and the write.
		tarball.WithCompressionLevel(gzip.DefaultCompression),
		tarball.WithCompressedCaching,
	)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "tools/image: /bin/" + s.Name + ", nonroot user, CA bundle",
			Comment:   s.Name + " " + s.Version,
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = s.Arch
	if s.Arch == "arm64" {
		cf.Variant = "v8"
	}
	cf.Created = v1.Time{Time: created}
	ports := map[string]struct{}{}
	for _, p := range s.Ports {
		ports[p] = struct{}{}
	}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", NonrootUID, NonrootUID),
		Entrypoint:   []string{"/bin/" + s.Name},
		WorkingDir:   "/",
		Env:          []string{"PATH=/bin"},
		ExposedPorts: ports,
		Labels: map[string]string{
			"org.opencontainers.image.title":       s.Name,
			"org.opencontainers.image.description": s.Description,
			"org.opencontainers.image.version":     s.Version,
			"org.opencontainers.image.revision":    s.Revision,
			"org.opencontainers.image.source":      s.Source,
			"org.opencontainers.image.licenses":    License,
		},
	}
	if len(ports) == 0 {
		cf.Config.ExposedPorts = nil
	}
	return mutate.ConfigFile(img, cf)
}

// checkStatic refuses what would not run on an empty base: anything but a
// statically linked ELF executable for arch (a cgo or host-OS build).
func checkStatic(bin []byte, arch string) error {
	want, ok := elfMachine[arch]
	if !ok {
		return fmt.Errorf("unsupported arch %q", arch)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("not a linux (ELF) binary: %w", err)
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("binary is for %v, want %s (GOARCH=%s)", f.Machine, want, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("binary is dynamically linked; build it with CGO_ENABLED=0")
		}
	}
	return nil
}

// rootfs returns the uncompressed layer: an ordered tar in which every
// entry has the same mtime, so equal inputs give equal bytes.
func rootfs(binName string, bin []byte, mtime time.Time) ([]byte, error) {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", NonrootUID, NonrootUID)
	group := "root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", NonrootUID)
	ca, err := caBundle()
	if err != nil {
		return nil, err
	}
	type entry struct {
		name string
		mode int64
		uid  int
		body []byte
		dir  bool
	}
	dir := func(n string, mode int64, uid int) entry { return entry{name: n, mode: mode, uid: uid, dir: true} }
	file := func(n string, mode int64, uid int, b []byte) entry {
		return entry{name: n, mode: mode, uid: uid, body: b}
	}
	entries := []entry{
		dir("bin/", 0o755, 0),
		file("bin/"+binName, 0o755, NonrootUID, bin),
		dir("etc/", 0o755, 0),
		file("etc/group", 0o644, 0, []byte(group)),
		file("etc/nsswitch.conf", 0o644, 0, []byte("hosts: files dns\n")),
		file("etc/passwd", 0o644, 0, []byte(passwd)),
		dir("etc/ssl/", 0o755, 0),
		dir("etc/ssl/certs/", 0o755, 0),
		file(CABundlePath, 0o644, 0, ca),
		dir("home/", 0o755, 0),
		dir("home/nonroot/", 0o700, NonrootUID),
		dir("root/", 0o700, 0),
		dir("tmp/", 0o1777, 0),
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:     e.name,
			Mode:     e.mode,
			Uid:      e.uid,
			Gid:      e.uid,
			ModTime:  mtime,
			Typeflag: tar.TypeReg,
			Size:     int64(len(e.body)),
			Format:   tar.FormatPAX,
		}
		if e.uid == NonrootUID {
			h.Uname, h.Gname = "nonroot", "nonroot"
		} else {
			h.Uname, h.Gname = "root", "root"
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// caBundle returns Mozilla's root CAs (as curated by the Go project's
// x509roots/fallback module, pinned in go.sum) in PEM, so the adapter can
// reach https targets. Roots that carry an extra constraint that PEM cannot
// express (distrust-after dates) are left out rather than trusted fully.
func caBundle() ([]byte, error) {
	var buf bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}); err != nil {
			return nil, err
		}
	}
	if buf.Len() == 0 {
		return nil, errors.New("empty CA bundle")
	}
	return buf.Bytes(), nil
}

// WriteArchive writes img to path as a docker-save tarball naming it by
// every tag in refs (one image, several RepoTags). It writes a temporary
// file and renames it, so path is either the old or the complete new file.
//
// The layout is the one tarball.MultiRefWrite produces (manifest.json, the
// config, one <hex>.tar.gz per layer), written here because that function
// lists a multi-tag image's RepoTags in map order, which would make the
// tarball bytes differ between runs; here the order is the caller's.
func WriteArchive(path string, img v1.Image, refs []name.Tag) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := writeArchive(f, img, refs); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func writeArchive(w io.Writer, img v1.Image, refs []name.Tag) error {
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	d := tarball.Descriptor{Config: cfgName.Hex + ".json"}
	for _, r := range refs {
		d.RepoTags = append(d.RepoTags, r.String())
	}
	type blob struct {
		name string
		l    v1.Layer
	}
	var blobs []blob
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return err
		}
		n := h.Hex + ".tar.gz"
		d.Layers = append(d.Layers, n)
		if !slices.ContainsFunc(blobs, func(b blob) bool { return b.name == n }) {
			blobs = append(blobs, blob{n, l})
		}
	}
	manifest, err := json.Marshal(tarball.Manifest{d})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	add := func(n string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{
			Name: n, Mode: 0o644, Size: size, Typeflag: tar.TypeReg,
			ModTime: time.Unix(0, 0), Format: tar.FormatPAX,
		}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := add(d.Config, int64(len(cfg)), bytes.NewReader(cfg)); err != nil {
		return err
	}
	for _, b := range blobs {
		size, err := b.l.Size()
		if err != nil {
			return err
		}
		rc, err := b.l.Compressed()
		if err != nil {
			return err
		}
		err = add(b.name, size, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", b.name, err)
		}
	}
	if err := add("manifest.json", int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	return tw.Close()
}

var invalidTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// TagFor turns a version string into a valid image tag: `git describe`
// output passes unchanged, anything else (a "+" build suffix) gets '-'.
func TagFor(version string) string {
	t := invalidTagChars.ReplaceAllString(version, "-")
	t = strings.TrimLeft(t, ".-")
	if len(t) > 128 {
		t = t[:128]
	}
	if t == "" {
		return "latest"
	}
	return t
}

// SourceDateEpoch returns $SOURCE_DATE_EPOCH as a time, or Unix 0 unset.
func SourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil || s < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v)
	}
	return time.Unix(s, 0).UTC(), nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run is main without os.Exit: the tests call it with the same flags the
// Makefile passes.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s Spec
	var repo, out string
	var ports, tags listFlag
	fs.StringVar(&s.Binary, "binary", "", "static linux binary to pack (required)")
	fs.StringVar(&s.Name, "name", "", "binary and image name (default: the binary's file name)")
	fs.StringVar(&s.Version, "version", "dev", "version: label and first tag")
	fs.StringVar(&s.Revision, "revision", "unknown", "VCS revision label")
	fs.StringVar(&s.Source, "source", DefaultSource, "source repository label")
	fs.StringVar(&s.Description, "description", "", "description label (default: per binary)")
	fs.StringVar(&s.Arch, "arch", "amd64", "architecture of the binary: amd64 or arm64")
	fs.Var(&ports, "port", "exposed port, repeatable (default: the binary's default listen port)")
	fs.StringVar(&repo, "repo", DefaultRepo, "image repository prefix: the image is <repo>/<name>")
	fs.Var(&tags, "tag", "image tag, repeatable (default: the version, then latest)")
	fs.StringVar(&out, "out", "", "output tarball (default: _output/images/<name>.tar)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if s.Binary == "" {
		return errors.New("--binary is required")
	}
	if s.Name == "" {
		s.Name = filepath.Base(s.Binary)
	}
	k := Known[s.Name]
	if s.Description == "" {
		s.Description = k.Description
	}
	s.Ports = ports
	if len(s.Ports) == 0 && k.Port != "" {
		s.Ports = []string{k.Port}
	}
	if len(tags) == 0 {
		tags = listFlag{TagFor(s.Version)}
		if tags[0] != "latest" {
			tags = append(tags, "latest")
		}
	}
	if out == "" {
		out = filepath.Join("_output", "images", s.Name+".tar")
	}
	var refs []name.Tag
	for _, t := range tags {
		r, err := name.NewTag(repo + "/" + s.Name + ":" + t)
		if err != nil {
			return fmt.Errorf("--repo %q, --name %q, --tag %q: %w", repo, s.Name, t, err)
		}
		refs = append(refs, r)
	}
	created, err := SourceDateEpoch()
	if err != nil {
		return err
	}
	s.Created = created

	img, err := Build(s)
	if err != nil {
		return err
	}
	if err := WriteArchive(out, img, refs); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %.1f MiB, sha256:%x\n  image %s\n",
		out, float64(st.Size())/(1<<20), sum.Sum(nil), digest)
	for _, r := range refs {
		fmt.Fprintf(stdout, "  tag   %s\n", r)
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "image:", err)
		}
		os.Exit(2)
	}
}
