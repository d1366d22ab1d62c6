# flagger-monitoring — every command a developer or CI needs. Tools are Go
# modules pinned in tools/ and test/ and built once into bin/ (git-ignored).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VPKG := github.com/prometheus/common/version
LDFLAGS := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=main

BINARIES := flagger-exporter flagger-event-adapter
PROM_TOOLS := promtool prometheus
JSONNET_TOOLS := jsonnet jsonnetfmt jsonnet-lint
AM_TOOLS := alertmanager amtool
TOOLS := $(addprefix $(BIN)/,$(PROM_TOOLS) $(JSONNET_TOOLS) jb staticcheck $(AM_TOOLS) kubectl flagger helm)
RELEASE_TOOLS := $(addprefix $(BIN)/,crane cyclonedx-gomod)

# The in-process API server reports no release version unless its test binary
# is stamped; the real Flagger refuses to start without a semantic version.
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37

.PHONY: chart push-chart push-image registry-login sbom all build test test-unit test-image test-integration lint generate demo bench bench-scale e2e conformance tools clean image fuzz help

# Packages of the root module and of the test module (API server, end to end).
TEST_FLAGS ?= -count=1
FUZZTIME ?= 10s
JSONNET_FILES = $(shell find mixin -name '*.libsonnet' -o -name '*.jsonnet' | LC_ALL=C sort)

all: build

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: $(addprefix $(BIN)/,$(BINARIES)) ## Build both binaries into bin/.

$(BIN)/flagger-%: FORCE
	@echo ">> building $(notdir $@)"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/$(notdir $@)

FORCE:

# ---- pinned tools -----------------------------------------------------------
tools: $(TOOLS) $(RELEASE_TOOLS) ## Build every pinned tool into bin/ (once; reused after).

$(addprefix $(BIN)/,$(PROM_TOOLS) $(JSONNET_TOOLS) jb staticcheck): tools/go.mod tools/go.sum
	@echo ">> building $(notdir $@) from tools/go.mod (first build of prometheus takes a few minutes)"
	cd tools && $(GO) build -o $@ $$(sed -n 's/^\t\(.*\/cmd\/$(notdir $@)\)$$/\1/p' go.mod)

$(addprefix $(BIN)/,$(AM_TOOLS)): tools/alertmanager/go.mod tools/alertmanager/go.sum
	@echo ">> building $(notdir $@) from tools/alertmanager/go.mod"
	cd tools/alertmanager && $(GO) build -o $@ github.com/prometheus/alertmanager/cmd/$(notdir $@)

$(BIN)/flagger: tools/flagger/go.mod tools/flagger/go.sum
	@echo ">> building the real Flagger controller from tools/flagger/go.mod (about 11 min cold on 2 cores)"
	cd tools/flagger && $(GO) build -o $@ github.com/fluxcd/flagger/cmd/flagger

$(BIN)/helm: tools/helm/go.mod tools/helm/go.sum
	@echo ">> building helm from tools/helm/go.mod (helm lint and helm template in the chart's tests)"
	cd tools/helm && $(GO) build -o $@ helm.sh/helm/v4/cmd/helm

$(RELEASE_TOOLS): tools/release/go.mod tools/release/go.sum
	@echo ">> building $(notdir $@) from tools/release/go.mod"
	cd tools/release && $(GO) build -o $@ $$(sed -n 's/^\t\(.*\/cmd\/$(notdir $@)\)$$/\1/p' go.mod)

$(BIN)/kubectl: test/go.mod test/go.sum
	@echo ">> building kubectl from k8s.io/kubernetes (test/go.mod; shares the API server's build cache)"
	cd test && $(GO) build -o $@ k8s.io/kubernetes/cmd/kubectl

# ---- tests ------------------------------------------------------------------
test: tools test-unit fuzz test-image test-integration ## Every test: unit, fuzz (briefly), API server integration and end to end.
	@echo ">> all tests passed"

test-unit: tools ## Root module tests (race detector on): exporter, adapter, mixin, Alertmanager config.
	@echo ">> unit and component tests (root module)"
	$(GO) test $(TEST_FLAGS) -race ./...

fuzz: ## Run each fuzz target for FUZZTIME (default 10s) on top of its seed corpus.
	@echo ">> fuzzing canary decoding for $(FUZZTIME)"
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./exporter/canary
	@echo ">> fuzzing webhook decoding and mapping for $(FUZZTIME)"
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAndMap$$' -fuzztime $(FUZZTIME) ./alertmanager/adapter/event

test-integration: tools ## test/ module: in-process kube-apiserver + etcd, child processes, end to end.
	@echo ">> integration tests (test/ module; the first build of the API server takes ~5-15 min)"
	cd test && $(GO) test $(TEST_FLAGS) -ldflags '$(KUBE_LDFLAGS)' -timeout 30m ./...

conformance: tools ## The real Flagger next to the exporter, every scenario (docs/conformance.md; CONFORMANCE_UPDATE=1 rewrites it).
	cd test && $(GO) test $(TEST_FLAGS) -ldflags '$(KUBE_LDFLAGS)' -timeout 20m -v -run '^TestConformance$$' ./conformance

e2e: tools ## Only the end-to-end pipeline test.
	cd test && $(GO) test $(TEST_FLAGS) -ldflags '$(KUBE_LDFLAGS)' -timeout 20m -v ./e2e

# ---- lint and generate ------------------------------------------------------
lint: tools ## go mod tidy, gofmt, go vet, staticcheck, jsonnetfmt, jsonnet-lint, promtool, amtool.
	@echo ">> go mod tidy (no changes needed)"
	# -e: tidy walks the tests of dependencies too, and one of Prometheus'
	# (storage/remote/googleiam via an old cloud.google.com/go/compute) has an
	# ambiguous import that no build of ours reaches.
	$(GO) mod tidy -e -diff
	cd test && $(GO) mod tidy -diff
	@echo ">> gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo ">> go vet"
	$(GO) vet ./...
	cd test && $(GO) vet ./...
	cd tools/image && $(GO) vet ./...
	cd tools/helm && $(GO) mod tidy -diff
	cd tools/release && $(GO) mod tidy -diff
	@echo ">> staticcheck"
	$(BIN)/staticcheck ./...
	@echo ">> jsonnetfmt and jsonnet-lint"
	$(BIN)/jsonnetfmt --test $(JSONNET_FILES)
	for f in $(JSONNET_FILES); do $(BIN)/jsonnet-lint -J mixin $$f || exit 1; done
	@echo ">> promtool check rules"
	$(BIN)/promtool check rules --lint=all --lint-fatal rules/*.yaml
	@echo ">> amtool check-config"
	$(BIN)/amtool check-config alertmanager/alertmanager.yml
	@echo ">> helm lint --strict"
	$(BIN)/helm lint --strict charts/flagger-monitoring

generate: tools ## Re-render rules/, dashboards/, mixin/manifests/ and the chart's files/mixin/ and values table.
	@echo ">> rendering the mixin"
	hack/generate-mixin.sh

# ---- benchmarks -------------------------------------------------------------
bench: ## Benchmarks: scrape cost vs client_golang and raw write; adapter vs plain relay.
	$(GO) test -run '^$$' -bench . -benchmem ./exporter/... ./alertmanager/...

bench-scale: tools ## Exporter at 1k/5k/10k canaries, and 100k over 4 shards, on the in-process API server (see BENCHMARKS.md).
	cd test && $(GO) test -ldflags '$(KUBE_LDFLAGS)' -run '^$$' -bench . -benchtime 1x -timeout 120m -v ./scale

# ---- container images -------------------------------------------------------
IMAGE_DIR := $(CURDIR)/_output/images
# Every timestamp in the images. The last commit's time makes two builds of
# one commit byte-identical; SOURCE_DATE_EPOCH=0 gives 1970-01-01.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

image: ## Multi-arch (linux/amd64+arm64) OCI layouts in _output/images/<name>/ and linux/amd64 docker-save tarballs <name>.tar.
	@echo ">> building static linux/amd64 and linux/arm64 binaries into $(BIN)/linux-{amd64,arm64}"
	for a in amd64 arm64; do for b in $(BINARIES); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-$$a/$$b ./cmd/$$b || exit 1; \
	done; done
	@echo ">> packing images into $(IMAGE_DIR) (tools/image)"
	for b in $(BINARIES); do \
	  SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run -C tools/image . --name $$b \
	    --binary linux/amd64=$(BIN)/linux-amd64/$$b --binary linux/arm64=$(BIN)/linux-arm64/$$b \
	    --version '$(VERSION)' --revision '$(REVISION)' \
	    --out-layout $(IMAGE_DIR)/$$b --out $(IMAGE_DIR)/$$b.tar || exit 1; \
	done

test-image: ## tools/image tests: build both images, read them back, run the packed binaries; also checks _output/images/ if built.
	@echo ">> image tests (tools/image module)"
	cd tools/image && IMAGE_DIR='$(if $(wildcard $(IMAGE_DIR)/*.tar $(IMAGE_DIR)/*/oci-layout),$(IMAGE_DIR))' $(GO) test $(TEST_FLAGS) ./...

# ---- demo -------------------------------------------------------------------
demo: tools ## Embedded cluster + exporter + Prometheus + Alertmanager + adapter, streaming notifications until Ctrl-C.
	@echo ">> starting the demo (first run builds the API server test binary: minutes)"
	cd test && FLAGGER_DEMO=1 $(GO) test -ldflags '$(KUBE_LDFLAGS)' -count=1 -timeout 0 -v -run '^TestDemo$$' ./demo

clean: ## Remove bin/ and test caches.
	rm -rf $(BIN)
	$(GO) clean -testcache

# ---- release (.github/workflows/release.yaml runs these) -------------------
CHART_DIR := charts/flagger-monitoring
CHART_OUT ?= $(CURDIR)/_output/charts
CHART_REPO ?= oci://ghcr.io/flagger-monitoring/charts
IMAGE_REPO ?= ghcr.io/flagger-monitoring
REGISTRY ?= ghcr.io
REGISTRY_USER ?=
# A chart version is SemVer without the tag's "v".
CHART_VERSION = $(patsubst v%,%,$(VERSION))

chart: $(BIN)/helm ## Package the chart into _output/charts/ (version and appVersion from VERSION).
	$(BIN)/helm package $(CHART_DIR) --version '$(CHART_VERSION)' --app-version '$(VERSION)' -d $(CHART_OUT)

push-chart: $(BIN)/helm ## Push the packaged chart to CHART_REPO as an OCI artifact.
	$(BIN)/helm push $(CHART_OUT)/flagger-monitoring-$(CHART_VERSION).tgz $(CHART_REPO)

registry-login: $(BIN)/helm $(BIN)/crane ## Log crane and helm in to REGISTRY (a host) as REGISTRY_USER, password on stdin.
	@pw=$$(cat) && \
	  echo "$$pw" | $(BIN)/crane auth login $(REGISTRY) -u '$(REGISTRY_USER)' --password-stdin && \
	  echo "$$pw" | $(BIN)/helm registry login $(REGISTRY) -u '$(REGISTRY_USER)' --password-stdin

# The layout's index.json names one entry, the multi-arch index, which crane
# pushes as is (--index would push index.json itself: an index of an index).
push-image: $(BIN)/crane ## Push both multi-arch images (OCI layouts from make image) as IMAGE_REPO/<name>:VERSION.
	for b in $(BINARIES); do \
	  $(BIN)/crane push $(IMAGE_DIR)/$$b $(IMAGE_REPO)/$$b:$(VERSION) || exit 1; \
	done

SBOM_DIR ?= $(CURDIR)/_output/sbom
sbom: $(BIN)/cyclonedx-gomod ## CycloneDX SBOM of each binary (its Go modules) into SBOM_DIR (_output/sbom/).
	mkdir -p $(SBOM_DIR)
	for b in $(BINARIES); do \
	  $(BIN)/cyclonedx-gomod app -json -licenses=false -main cmd/$$b -output $(SBOM_DIR)/$$b.cdx.json .; \
	done
