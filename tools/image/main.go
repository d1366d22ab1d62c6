// Command image packs static flagger-monitoring binaries into container
// images without a container engine and without downloading a base image:
// one image per platform (linux/amd64, linux/arm64), gathered in a
// multi-arch OCI image index.
//
// Each image is built on an empty base: a single layer holds the binary at
// /bin/<name> plus the few files a static Go program and the tools around it
// expect (/etc/passwd and /etc/group naming the nonroot user 65532, a CA
// bundle for HTTPS targets, /etc/nsswitch.conf, /tmp). The result is
// reproducible: every timestamp is SOURCE_DATE_EPOCH (or 0), so the same
// binaries always give the same image and index digests and the same bytes.
//
//	go run -C tools/image . --name flagger-exporter \
//	    --binary linux/amd64=../../bin/linux-amd64/flagger-exporter \
//	    --binary linux/arm64=../../bin/linux-arm64/flagger-exporter \
//	    --version v1.2.3 --revision $(git rev-parse HEAD) \
//	    --out-layout ../../_output/images/flagger-exporter \
//	    --out ../../_output/images/flagger-exporter.tar
//
// Each --binary is PLATFORM=PATH (linux/amd64, linux/arm64 or
// linux/arm64/v8) or a bare PATH, whose platform is read from its ELF
// header; a binary whose ELF machine is not the platform stated is refused.
//
// There are two outputs, because no single format serves both uses:
//
//   - --out-layout DIR writes an OCI image layout directory (oci-layout,
//     index.json, blobs/sha256/): index.json names one OCI image index,
//     annotated org.opencontainers.image.ref.name=<first tag> (the version),
//     which lists one image manifest per platform, in platform order. The
//     index carries the org.opencontainers.image.* annotations that the
//     images carry as labels. This is the multi-arch artifact: crane push,
//     skopeo copy oci:DIR:<tag>, regctl and oras copy it to a registry
//     unchanged, so a registry serves the digest printed here. DIR is
//     replaced as a whole (it must be absent, empty, or an OCI layout).
//   - --out FILE.tar writes a docker-save tarball (manifest.json + config +
//     gzipped layer), tagged <repo>/<name>:<version> and <repo>/<name>:latest,
//     for docker load, podman load, kind load image-archive and ctr images
//     import. docker-save cannot hold an index, so the tarball holds the
//     linux/amd64 image only (the only image if just one binary is given):
//     the same config and layer as that platform's entry in the index.
//
// With neither flag, --out defaults to _output/images/<name>.tar, as the
// single-binary form always did.
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
	"maps"
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
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
	// RefNameAnnotation names the index in the OCI layout's index.json.
	RefNameAnnotation = "org.opencontainers.image.ref.name"
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
	Arch        string    // GOARCH of the binary: amd64 or arm64; "": from its ELF header
	Created     time.Time // image creation time and every file's mtime; zero: Unix 0
}

var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// Build returns the image for s. It reads s.Binary once, into memory.
// The image uses OCI media types, so that it can be listed in an OCI index.
func Build(s Spec) (v1.Image, error) {
	if s.Name == "" || strings.ContainsAny(s.Name, "/ ") {
		return nil, fmt.Errorf("invalid name %q", s.Name)
	}
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, err
	}
	if s.Arch == "" {
		if s.Arch, err = elfArch(bin); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Binary, err)
		}
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
		tarball.WithMediaType(types.OCILayer),
	)
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
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
		Labels:       Labels(s),
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
		return fmt.Errorf("binary is for %v, want %v for platform linux/%s (build it with GOOS=linux GOARCH=%s)",
			f.Machine, want, arch, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("binary is dynamically linked; build it with CGO_ENABLED=0")
		}
	}
	return nil
}

// elfArch returns the GOARCH an ELF binary is for, from its header.
func elfArch(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("not a linux (ELF) binary: %w", err)
	}
	defer f.Close()
	for _, arch := range slices.Sorted(maps.Keys(elfMachine)) {
		if elfMachine[arch] == f.Machine {
			return arch, nil
		}
	}
	return "", fmt.Errorf("binary is for %v; supported: linux/amd64 (%v), linux/arm64 (%v)",
		f.Machine, elf.EM_X86_64, elf.EM_AARCH64)
}

// Labels returns the org.opencontainers.image.* labels of s's images, which
// are also the annotations of its index.
func Labels(s Spec) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       s.Name,
		"org.opencontainers.image.description": s.Description,
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.revision":    s.Revision,
		"org.opencontainers.image.source":      s.Source,
		"org.opencontainers.image.licenses":    License,
	}
}

// PlatformOf returns the platform an image's config states.
func PlatformOf(img v1.Image) (v1.Platform, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Platform{}, err
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}, nil
}

// BuildIndex returns the OCI image index of imgs (one per platform, from
// Build), annotated with s's labels. The manifests are in platform order,
// whatever the order of imgs, so equal images give an equal index digest.
func BuildIndex(s Spec, imgs []v1.Image) (v1.ImageIndex, error) {
	if len(imgs) == 0 {
		return nil, errors.New("no images")
	}
	var ds []describedImage
	for _, img := range imgs {
		p, err := PlatformOf(img)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(ds, func(d describedImage) bool { return d.desc.Platform.Equals(p) }) {
			return nil, fmt.Errorf("two images for %s", p)
		}
		d, err := plainDescriptor(img)
		if err != nil {
			return nil, err
		}
		d.Platform = &p
		ds = append(ds, describedImage{img, d})
	}
	slices.SortFunc(ds, func(a, b describedImage) int {
		return strings.Compare(a.desc.Platform.String(), b.desc.Platform.String())
	})
	var adds []mutate.IndexAddendum
	for _, d := range ds {
		adds = append(adds, mutate.IndexAddendum{Add: d})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, Labels(s)).(v1.ImageIndex), nil
}

// describedImage is an image whose index descriptor is given: partial.
// Descriptor would add an artifactType (the config media type), which
// marks artifacts, not runnable images; docker buildx leaves it out too.
type describedImage struct {
	v1.Image
	desc v1.Descriptor
}

func (d describedImage) Descriptor() (*v1.Descriptor, error) { return &d.desc, nil }

func plainDescriptor(img v1.Image) (v1.Descriptor, error) {
	var d v1.Descriptor
	var err error
	if d.MediaType, err = img.MediaType(); err != nil {
		return d, err
	}
	if d.Size, err = img.Size(); err != nil {
		return d, err
	}
	d.Digest, err = img.Digest()
	return d, err
}

// WriteLayout writes idx to dir as an OCI image layout whose index.json
// names idx alone, annotated org.opencontainers.image.ref.name=refName.
// It writes a temporary directory next to dir and renames it, so dir is
// either the old or the complete new layout. It refuses to replace a dir
// that holds anything but an OCI layout.
func WriteLayout(dir string, idx v1.ImageIndex, refName string) (err error) {
	dir = filepath.Clean(dir)
	old, err := os.ReadDir(dir)
	exists := err == nil
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(old) > 0:
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("refusing to replace %s: not empty and not an OCI image layout", dir)
		}
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{RefNameAnnotation: refName})); err != nil {
		return err
	}
	// layout writes files 0777&^umask or 0600 (layers); make them plain
	// readable files, as the tarball is.
	if err := filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}); err != nil {
		return err
	}
	if !exists {
		return os.Rename(tmp, dir)
	}
	// Swap: the old layout moves aside, then goes once the new one is in place.
	aside := tmp + ".old"
	if err := os.Rename(dir, aside); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(aside, dir)
		return err
	}
	return os.RemoveAll(aside)
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

// Binary is one --binary flag: a static linux binary and its GOARCH.
type Binary struct {
	Path string
	Arch string // "": read from the ELF header
}

var platformPrefix = regexp.MustCompile(`^([a-z0-9]+)/([a-z0-9]+)(?:/([a-z0-9]+))?=`)

// ParseBinary parses PLATFORM=PATH (linux/amd64, linux/arm64,
// linux/arm64/v8) or a bare PATH.
func ParseBinary(v string) (Binary, error) {
	m := platformPrefix.FindStringSubmatch(v)
	if m == nil {
		if v == "" {
			return Binary{}, errors.New("--binary: empty path")
		}
		return Binary{Path: v}, nil
	}
	path := v[len(m[0]):]
	plat, osName, arch, variant := strings.TrimSuffix(m[0], "="), m[1], m[2], m[3]
	if _, ok := elfMachine[arch]; !ok || osName != "linux" ||
		(variant != "" && (arch != "arm64" || variant != "v8")) {
		return Binary{}, fmt.Errorf("--binary %s: unsupported platform %s; want linux/amd64 or linux/arm64", v, plat)
	}
	if path == "" {
		return Binary{}, fmt.Errorf("--binary %s: empty path", v)
	}
	return Binary{Path: path, Arch: arch}, nil
}

// run is main without os.Exit: the tests call it with the same flags the
// Makefile passes.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s Spec
	var repo, out, outLayout, arch string
	var binFlags, ports, tags listFlag
	fs.Var(&binFlags, "binary", "static linux binary to pack: PLATFORM=PATH (linux/amd64, linux/arm64) or PATH "+
		"(platform from its ELF header); repeatable, one per platform (required)")
	fs.StringVar(&s.Name, "name", "", "binary and image name (default: the first binary's file name)")
	fs.StringVar(&s.Version, "version", "dev", "version: label and first tag")
	fs.StringVar(&s.Revision, "revision", "unknown", "VCS revision label")
	fs.StringVar(&s.Source, "source", DefaultSource, "source repository label")
	fs.StringVar(&s.Description, "description", "", "description label (default: per binary)")
	fs.StringVar(&arch, "arch", "", "with a single --binary PATH: its architecture, amd64 or arm64, checked against the ELF header (default: read from it)")
	fs.Var(&ports, "port", "exposed port, repeatable (default: the binary's default listen port)")
	fs.StringVar(&repo, "repo", DefaultRepo, "image repository prefix: the image is <repo>/<name>")
	fs.Var(&tags, "tag", "image tag, repeatable (default: the version, then latest); the first names the index in --out-layout")
	fs.StringVar(&out, "out", "", "docker-save tarball of the linux/amd64 image (default, if --out-layout is not given either: _output/images/<name>.tar)")
	fs.StringVar(&outLayout, "out-layout", "", "OCI image layout directory holding the multi-arch index of all the binaries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if len(binFlags) == 0 {
		return errors.New("--binary is required")
	}
	var bins []Binary
	for _, v := range binFlags {
		b, err := ParseBinary(v)
		if err != nil {
			return err
		}
		bins = append(bins, b)
	}
	if arch != "" {
		if len(bins) != 1 || bins[0].Arch != "" {
			return errors.New("--arch applies to a single --binary PATH; state each platform instead: --binary linux/ARCH=PATH")
		}
		bins[0].Arch = arch
	}
	if s.Name == "" {
		s.Name = filepath.Base(bins[0].Path)
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
	if out == "" && outLayout == "" {
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

	// Build every image before writing anything: an error leaves the
	// outputs as they were.
	var imgs []v1.Image
	var tarImg v1.Image
	for _, b := range bins {
		bs := s
		bs.Binary, bs.Arch = b.Path, b.Arch
		img, err := Build(bs)
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
		if p, err := PlatformOf(img); err != nil {
			return err
		} else if p.Architecture == "amd64" || len(bins) == 1 {
			tarImg = img
		}
	}
	idx, err := BuildIndex(s, imgs)
	if err != nil {
		return fmt.Errorf("--binary: %w", err)
	}
	if out != "" && tarImg == nil {
		return errors.New("--out: a docker-save tarball holds one image, the linux/amd64 one, but no linux/amd64 binary was given")
	}

	if outLayout != "" {
		if err := WriteLayout(outLayout, idx, tags[0]); err != nil {
			return err
		}
		d, err := idx.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: OCI layout, index %s, ref.name %s\n", outLayout, d, tags[0])
		m, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		for _, desc := range m.Manifests {
			fmt.Fprintf(stdout, "  %-14s %s\n", desc.Platform, desc.Digest)
		}
	}
	if out != "" {
		if err := WriteArchive(out, tarImg, refs); err != nil {
			return err
		}
		digest, err := tarImg.Digest()
		if err != nil {
			return err
		}
		p, err := PlatformOf(tarImg)
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
		fmt.Fprintf(stdout, "%s: %.1f MiB, sha256:%x\n  image %s (%s)\n",
			out, float64(st.Size())/(1<<20), sum.Sum(nil), digest, p)
	}
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
