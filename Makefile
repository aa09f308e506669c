# Hooktray. `make run` starts it; `make test` runs every test. Both install what they need first.

GO       ?= go
TAGS     := sqlite_fts5 migrated_fynedo
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
GOFLAGS_ := -tags '$(TAGS)'

.PHONY: all build run serve test race crashtest fuzz bench lint setup clean dist-linux dist-check-linux dist-macos dist-windows dist-check-windows

all: build

setup:
	@./scripts/setup-debian.sh
	@command -v $(GO) >/dev/null || { echo "Go is not installed: see https://go.dev/doc/install" >&2; exit 1; }

build: setup
	$(GO) build $(GOFLAGS_) -ldflags '$(LDFLAGS)' -o bin/hooktray .

# The main job on the embedded default: SQLite in the user's config dir, receiver on loopback.
run: build
	./bin/hooktray

serve: build
	./bin/hooktray serve

# vet runs in lint; go test runs its own quick subset of it.
test: setup
	$(GO) test $(GOFLAGS_) -count=1 ./...

race: setup
	$(GO) test $(GOFLAGS_) -race -count=1 ./...

# Every fuzz target for FUZZTIME each (CI: 20 s).
FUZZTIME ?= 20s
fuzz: setup
	FUZZTIME=$(FUZZTIME) TAGS='$(TAGS)' ./scripts/fuzz.sh

crashtest: setup
	$(GO) test $(GOFLAGS_) -count=1 -v -run TestKillDuringLoadLosesNothingAcknowledged ./e2e/

# wrk (a Debian package) drives the ingest comparison as users would measure it. hooktray-ceiling
# is the same receiver with fdatasync and the SQLite import compiled out: never a product build,
# only the bench's measure of what the rest costs.
bench: build
	@./scripts/setup-debian.sh wrk
	$(GO) build -o bin/bench-bare ./bench/bare
	$(GO) build -o bin/bench-ingest ./bench/ingest
	$(GO) build -tags '$(TAGS) hooktray_ceiling' -o bin/hooktray-ceiling .
	$(GO) build -o bin/bench-forward ./bench/forward
	$(GO) build $(GOFLAGS_) -o bin/bench-history ./bench/history
	$(GO) build $(GOFLAGS_) -o bin/bench-minimalwindow ./bench/minimalwindow
	$(GO) build $(GOFLAGS_) -o bin/bench-gui ./bench/gui
	$(GO) build -o bin/bench-hardening ./bench/hardening
	$(GO) build -o bin/bench-inbox ./bench/inbox
	$(GO) build -o bin/bench-mqtt ./bench/mqtt
	./bin/bench-ingest
	./bin/bench-forward
	./bin/bench-history
	./bin/bench-hardening
	./bin/bench-inbox
	./bin/bench-mqtt
	$(GO) test -run XXX -bench . -benchtime 2s ./app/rules/ ./app/shapes/
	./bin/bench-gui

# staticcheck is pinned in go.mod as a tool (go get -tool honnef.co/go/tools/cmd/staticcheck@v0.8.2).
lint: setup
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting" >&2; exit 1; }
	$(GO) vet $(GOFLAGS_) ./...
	$(GO) vet -tags '$(TAGS) hooktray_ceiling' ./app/ingest/
	$(GO) tool staticcheck $(GOFLAGS_) ./...

# Release artefacts (see README "Installing Hooktray" and packaging/).
dist-linux: setup
	TAGS='$(TAGS)' VERSION=$(VERSION) ./scripts/dist-linux.sh

# Cross-built here with Debian's MinGW (installed on first use).
dist-windows: setup
	TAGS='$(TAGS)' VERSION=$(VERSION) ./scripts/dist-windows.sh

# Runs the Windows package under Wine and Xvfb (--version, serve with a webhook, the window), as CI does.
dist-check-windows: dist-windows
	./scripts/check-dist-windows.sh dist/Hooktray-$(VERSION)-windows-amd64.zip

# On a Mac only (packaging/macos/README.md); untested on the Linux machines this is built on.
dist-macos:
	TAGS='$(TAGS)' VERSION=$(VERSION) ./scripts/dist-macos.sh

# Installs the Linux package into a temporary prefix and runs it, as CI does.
dist-check-linux: dist-linux
	./scripts/check-dist-linux.sh dist/Hooktray-$(VERSION)-linux-$$($(GO) env GOARCH).tar.gz

clean:
	rm -rf bin dist
