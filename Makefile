# antenne's build and test entry points. `make test` installs what the tests
# need when it is missing, starts MinIO for the run and stops it afterwards.

GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
PKGS     := ./...

# MinIO for the tests, built from source once and cached in GOPATH/bin.
MINIO_MODULE  := github.com/minio/minio
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
MINIO         := $(GOBIN)/minio

# Debian packages the tests drive for real: ffmpeg for audio, chromium for
# the browser tests, two feed parsers podcast apps use, Icecast as the live
# stream of the live test, mmdebstrap for the image's Debian root. Node.js (for a third parser) comes from Debian
# only when the machine has no npm of its own.
DEBIAN_PACKAGES := ffmpeg chromium python3-feedparser python3-podcastparser icecast2 mmdebstrap

# The Podcast Index's feed parser, from npm, kept outside the tree.
PARTYTIME_VERSION := 5.0.0
# axe-core, the accessibility engine the browser tests run on every page.
AXE_VERSION       := 4.11.4
NODE_DIR          := $(shell $(GO) env GOPATH)/pkg/antenne-node
export NODE_PATH  := $(NODE_DIR)/node_modules

export ANTENNE_TEST_MINIO_BIN := $(MINIO)

# GoToSocial, a real fediverse server for the federation tests, built once
# from a throw-away module (its version list is not on the module proxy, so
# `go install ...@version` fails) and cached in GOPATH/bin. See
# ../shared/LIBRARIES.md: its SQLite needs the replace below, and without
# -tags nowasm its WebAssembly SQLite panics under recent Go.
GOTOSOCIAL_MODULE    := github.com/superseriousbusiness/gotosocial
GOTOSOCIAL_VERSION   := v0.17.3
GOTOSOCIAL_SQLITE    := gitlab.com/NyaaaWhatsUpDoc/sqlite v1.33.1-concurrency-workaround
GOTOSOCIAL           := $(GOBIN)/gotosocial
GOTOSOCIAL_BUILD_DIR := $(shell $(GO) env GOPATH)/pkg/antenne-gotosocial-build

export ANTENNE_TEST_GOTOSOCIAL_BIN := $(GOTOSOCIAL)
export ANTENNE_TEST_GOTOSOCIAL_DIR := $(shell $(GO) env GOMODCACHE)/$(GOTOSOCIAL_MODULE)@$(GOTOSOCIAL_VERSION)

# The container image (docs/production.md): a Debian root made by
# mmdebstrap (ffmpeg, CA certificates, time zones; the user antenne, uid
# 10001; /data), cached under GOPATH/pkg/antenne-image by a hash of its
# recipe, plus a static antenne binary, assembled by deploy/ociimage into
# an OCI archive that docker load and podman load take. No Docker daemon,
# no registry. The mirror is the one apt uses here.
IMAGE          := antenne.oci.tar
IMAGE_DIR      := $(shell $(GO) env GOPATH)/pkg/antenne-image
DEBIAN_SUITE   := bookworm
DEBIAN_MIRROR  := $(or $(shell sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1),http://deb.debian.org/debian)
IMAGE_BASE_OPTS := --variant=apt --include=ffmpeg,ca-certificates,tzdata \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/dri/*' \
  --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libLLVM-*' --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libz3.so*' \
  --customize-hook='chroot "$$1" useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin antenne' \
  --customize-hook='mkdir -p "$$1/data" && chown 10001:10001 "$$1/data" && chmod 0750 "$$1/data"' \
  --customize-hook='rm -rf "$$1"/var/cache/apt/* "$$1"/var/lib/apt/lists/* "$$1"/var/log/*.log "$$1"/var/cache/ldconfig/aux-cache'
IMAGE_BASE     := $(IMAGE_DIR)/debian-$(DEBIAN_SUITE)-$(shell printf '%s' "$(IMAGE_BASE_OPTS)" | sha256sum | cut -c1-12).tar
export ANTENNE_TEST_IMAGE := $(CURDIR)/$(IMAGE)

.PHONY: all build image image-base test-image test faults soak check fmt vet deps debian-deps node-deps minio gotosocial bench bench-http bench-ingest loadtest clean screenshots

all: build

# The commit `antenne version` reports when the Go toolchain cannot record
# it (it does not in a git worktree); "-dirty" when the tree has changes.
# -buildvcs=auto overrides a GOFLAGS=-buildvcs=false of the machine.
REVISION := $(shell r=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD -- 2>/dev/null && echo $$r || echo $$r-dirty; })
GOBUILD  := $(GO) build -buildvcs=auto -ldflags '-X main.buildRevision=$(REVISION)'

## build: ./antenne, reporting its module version and commit (`antenne version`).
build:
	$(GOBUILD) -o antenne ./cmd/antenne

# The bound of one test binary. From a bare machine under load (2 cores
# shared), cmd/antenne alone took 926 s, fault test excluded: 45 minutes
# leave it room without letting a hung test hold CI for long.
TEST_TIMEOUT := 45m

## image: antenne.oci.tar, the container image (see IMAGE above); prints its size.
image: image-base
	CGO_ENABLED=0 $(GOBUILD) -trimpath -o $(IMAGE_DIR)/antenne ./cmd/antenne
	$(GO) run ./deploy/ociimage -base $(IMAGE_BASE) -binary $(IMAGE_DIR)/antenne -o $(IMAGE) \
	  -version "$$($(IMAGE_DIR)/antenne version | sed -n '1s/^antenne //p')" -revision "$(REVISION)" \
	  -created "$$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"

## image-base: the Debian root of the image, built once (minutes) and cached.
image-base:
	@if [ ! -s "$(IMAGE_BASE)" ]; then \
	  command -v mmdebstrap >/dev/null || $(MAKE) debian-deps; \
	  echo "building the image's Debian root with mmdebstrap from $(DEBIAN_MIRROR) (first run only, minutes)"; \
	  mkdir -p "$(IMAGE_DIR)" && SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ) && \
	  SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || date +%s) $$SUDO mmdebstrap --quiet --format=tar $(IMAGE_BASE_OPTS) \
	    $(DEBIAN_SUITE) "$(IMAGE_BASE).tmp" "$(DEBIAN_MIRROR)" && \
	  $$SUDO chown "$$(id -u):$$(id -g)" "$(IMAGE_BASE).tmp" && mv "$(IMAGE_BASE).tmp" "$(IMAGE_BASE)"; \
	fi

## test-image: the image's test alone (runs it from its unpacked root; needs root for chroot).
test-image: image
	$(GO) test -count=1 -timeout 10m -run TestImage ./deploy/ociimage

## test: install what is missing, build the image, then gofmt, vet and every
## test with -race against a real MinIO (the image's among them); then the
## tests too slow for -race (EBU Tech 3342's case 4 of the loudness meter),
## without it.
test: deps check image
	./.ci/with-minio $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(GO) test -count=1 -timeout 10m -run 'TestMeterEBUCases' ./episodes/audio

## faults: the proof under faults (cmd/antenne TestFaults), one short
## schedule of a minute. ANTENNE_FAULTS_SEED=n replays a schedule.
faults: deps
	ANTENNE_FAULTS=1 $(GO) test -race -count=1 -timeout 30m -run 'TestFaults$$' -v ./cmd/antenne

## soak: the fault test of several replicas on one bucket (cmd/antenne
## TestFaults) for SOAK (default 30m) instead of its short run in `make
## test`. ANTENNE_FAULTS_SEED=n replays a schedule.
SOAK ?= 30m
soak: deps
	ANTENNE_FAULTS=1 ANTENNE_FAULTS_DURATION=$(SOAK) $(GO) test -count=1 -timeout 3h -run 'TestFaults$$' -v ./cmd/antenne

## check: gofmt and go vet.
check: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

deps: debian-deps node-deps minio gotosocial

## debian-deps: apt-get install the Debian packages the tests use, when missing.
debian-deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## node-deps: npm install the feed parser of the Podcast Index and axe-core, when missing.
node-deps: debian-deps
	@if [ ! -f "$(NODE_PATH)/podcast-partytime/package.json" ] || \
	    ! grep -q '"version": "$(PARTYTIME_VERSION)"' "$(NODE_PATH)/podcast-partytime/package.json"; then \
	  echo "installing podcast-partytime $(PARTYTIME_VERSION) into $(NODE_DIR)"; \
	  mkdir -p "$(NODE_DIR)" && npm install --silent --no-audit --no-fund --prefix "$(NODE_DIR)" podcast-partytime@$(PARTYTIME_VERSION) >/dev/null; \
	fi
	@if [ ! -f "$(NODE_PATH)/axe-core/package.json" ] || \
	    ! grep -q '"version": "$(AXE_VERSION)"' "$(NODE_PATH)/axe-core/package.json"; then \
	  echo "installing axe-core $(AXE_VERSION) into $(NODE_DIR)"; \
	  mkdir -p "$(NODE_DIR)" && npm install --silent --no-audit --no-fund --prefix "$(NODE_DIR)" axe-core@$(AXE_VERSION) >/dev/null; \
	fi

## minio: build the pinned MinIO into GOPATH/bin unless that version is there.
minio:
	@if ! $(GO) version -m $(MINIO) 2>/dev/null | grep -q "mod[[:space:]]*$(MINIO_MODULE)[[:space:]]*$(MINIO_VERSION)"; then \
	  echo "building MinIO $(MINIO_VERSION) (first run only, a few minutes)"; \
	  cd / && GOFLAGS= $(GO) install $(MINIO_MODULE)@$(MINIO_VERSION); \
	fi

## gotosocial: build the pinned GoToSocial (with -tags nowasm) into GOPATH/bin unless that build is there.
gotosocial:
	@if ! $(GO) version -m $(GOTOSOCIAL) 2>/dev/null | grep -Eq "(mod|dep)[[:space:]]+$(GOTOSOCIAL_MODULE)[[:space:]]+$(GOTOSOCIAL_VERSION)" || \
	    ! $(GO) version -m $(GOTOSOCIAL) | grep -q -- "-tags=nowasm"; then \
	  echo "building GoToSocial $(GOTOSOCIAL_VERSION) (first run only, a few minutes)"; \
	  rm -rf "$(GOTOSOCIAL_BUILD_DIR)" && mkdir -p "$(GOTOSOCIAL_BUILD_DIR)" && cd "$(GOTOSOCIAL_BUILD_DIR)" && \
	  printf 'module antenne.test/gotosocial\n\ngo 1.23\n\nrequire $(GOTOSOCIAL_MODULE) $(GOTOSOCIAL_VERSION)\n\nreplace modernc.org/sqlite => $(GOTOSOCIAL_SQLITE)\n' >go.mod && \
	  printf '//go:build tools\n\npackage tools\n\nimport _ "$(GOTOSOCIAL_MODULE)/cmd/gotosocial"\n' >tools.go && \
	  export GOFLAGS=-mod=mod GONOSUMDB=github.com/superseriousbusiness,gitlab.com/NyaaaWhatsUpDoc GOTOOLCHAIN=local && \
	  $(GO) mod tidy && \
	  $(GO) build -tags nowasm -trimpath -o "$(GOTOSOCIAL).tmp" $(GOTOSOCIAL_MODULE)/cmd/gotosocial && \
	  mv "$(GOTOSOCIAL).tmp" "$(GOTOSOCIAL)" && cd / && rm -rf "$(GOTOSOCIAL_BUILD_DIR)"; \
	fi

## bench: every Go benchmark, then the scripts of bench/ that compare antenne
## with a reference tool in one run, each against a throw-away MinIO.
bench: deps
	./.ci/with-minio $(GO) test -run '^$$' -bench . -benchmem -timeout 60m $(PKGS)
	./.ci/with-minio bench/publish.sh
	./.ci/with-minio bench/feed.sh
	bench/ingest.sh

## bench-ingest: `antenne publish` of a 45-minute Mumble WAV against one plain MP3 encode (bench/ingest.sh).
bench-ingest: debian-deps
	bench/ingest.sh

## bench-http: antenne's feed and media against nginx and MinIO with wrk (bench/feed.sh).
bench-http: minio
	./.ci/with-minio bench/feed.sh

## loadtest: 60 s of feed readers, media downloaders and uploading hosts
## against antenne over MinIO on 127.0.0.1; fails when anything is lost.
loadtest: deps
	./.ci/with-minio bench/loadtest.sh 60s

clean:
	rm -f antenne $(IMAGE)

## screenshots: PNGs of the studio and the public pages, desktop and phone widths, into ./screenshots/ (needs chromium).
screenshots:
	mkdir -p screenshots
	ANTENNE_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run TestBrowserPublish ./web
	@ls screenshots
