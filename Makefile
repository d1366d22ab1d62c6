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
TOOLS := $(addprefix $(BIN)/,$(PROM_TOOLS) $(JSONNET_TOOLS) jb staticcheck $(AM_TOOLS) kubectl)

.PHONY: all build test test-unit test-integration lint generate demo bench bench-scale e2e tools clean image fuzz help

all: build

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: $(addprefix $(BIN)/,$(BINARIES)) ## Build both binaries into bin/.

$(BIN)/flagger-%: FORCE
	@echo ">> building $(notdir $@)"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/$(notdir $@)

FORCE:

# ---- pinned tools -----------------------------------------------------------
tools: $(TOOLS) ## Build every pinned tool into bin/ (once; reused after).

$(addprefix $(BIN)/,$(PROM_TOOLS) $(JSONNET_TOOLS) jb staticcheck): tools/go.mod tools/go.sum
	@echo ">> building $(notdir $@) from tools/go.mod (first build of prometheus takes a few minutes)"
	cd tools && $(GO) build -o $@ $$(sed -n 's/^\t\(.*\/cmd\/$(notdir $@)\)$$/\1/p' go.mod)

$(addprefix $(BIN)/,$(AM_TOOLS)): tools/alertmanager/go.mod tools/alertmanager/go.sum
	@echo ">> building $(notdir $@) from tools/alertmanager/go.mod"
	cd tools/alertmanager && $(GO) build -o $@ github.com/prometheus/alertmanager/cmd/$(notdir $@)

$(BIN)/kubectl: test/go.mod test/go.sum
	@echo ">> building kubectl from k8s.io/kubernetes (test/go.mod; shares the API server's build cache)"
	cd test && $(GO) build -o $@ k8s.io/kubernetes/cmd/kubectl
