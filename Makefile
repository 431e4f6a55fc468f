# Two commands matter on a fresh machine: `make run` and `make test`.
# Everything else they need is installed here when missing.

SHELL   := /bin/bash
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Built frontend (app.wasm and friends); the server serves it, `make static`
# copies it into a CDN-ready site.
WEB_DIR := build/web
APT_PKGS_TEST := redis-server chromium nginx wrk brotli
# Browser audit tools from the npm registry (axe-core, Lighthouse), pinned
# exactly by e2e/npm/package-lock.json and installed into build/npm.
NPM_DIR := build/npm
STATICCHECK := build/staticcheck
VETFLAGS := $(strip $(shell $(GO) env GOFLAGS) -trimpath)

.PHONY: run build wasm static embedweb test test-short vet bench bench-api bench-wal tools cluster cluster-down clean screenshots lighthouse bench-startup fuzz

## run: the whole product on http://localhost:8080 with embedded defaults
run: wasm
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/authdash

## build: the server binary in bin/
build: wasm
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/authdash ./cmd/authdash

## wasm: the go-app frontend compiled to WebAssembly, plus its compressed forms
## (recompressed only when app.wasm changed: brotli -q 11 takes ~20 s)
wasm:
	@mkdir -p $(WEB_DIR)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '-s -w' -o $(WEB_DIR)/app.wasm.new ./wasm
	@if cmp -s $(WEB_DIR)/app.wasm.new $(WEB_DIR)/app.wasm && [ -f $(WEB_DIR)/app.wasm.gz ] && \
	    { [ -f $(WEB_DIR)/app.wasm.br ] || ! command -v brotli >/dev/null; }; then \
	  rm $(WEB_DIR)/app.wasm.new; \
	else \
	  mv $(WEB_DIR)/app.wasm.new $(WEB_DIR)/app.wasm; \
	  rm -f $(WEB_DIR)/app.wasm.gz $(WEB_DIR)/app.wasm.br; \
	  gzip -9 -k -f $(WEB_DIR)/app.wasm; \
	  if command -v brotli >/dev/null; then brotli -q 11 -f -o $(WEB_DIR)/app.wasm.br $(WEB_DIR)/app.wasm; \
	  else echo "brotli not installed (make tools): serving gzip only"; fi; \
	fi

## static: a CDN-ready static site in dist/ for an API at $(API_URL) (which
## must list the site's origin in ALLOWED_ORIGINS)
static: wasm
	rm -rf dist
	$(GO) run ./wasm/static -out dist -build $(WEB_DIR) -api '$(API_URL)' -version '$(VERSION)'

## embedweb: put the built frontend where `go build -tags embedweb` embeds it
embedweb: wasm
	rm -rf app/frontend/dist && mkdir -p app/frontend/dist
	cp $(WEB_DIR)/app.wasm $(WEB_DIR)/app.wasm.gz app/frontend/dist/
	if [ -f $(WEB_DIR)/app.wasm.br ]; then cp $(WEB_DIR)/app.wasm.br app/frontend/dist/; fi

## tools: install what the tests need (redis-server, chromium, nginx, wrk, brotli,
## npm, and axe-core and Lighthouse into build/npm) when missing
tools:
	@missing=""; \
	for p in $(APT_PKGS_TEST) npm; do \
	  case $$p in redis-server) bin=redis-server;; nginx) bin=nginx;; *) bin=$$p;; esac; \
	  command -v $$bin >/dev/null 2>&1 || [ -x /usr/sbin/$$bin ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@if ! cmp -s e2e/npm/package-lock.json $(NPM_DIR)/package-lock.json || [ ! -d $(NPM_DIR)/node_modules ]; then \
	  echo "installing axe-core and Lighthouse into $(NPM_DIR)"; \
	  rm -rf $(NPM_DIR) && mkdir -p $(NPM_DIR) && \
	  cp e2e/npm/package.json e2e/npm/package-lock.json e2e/npm/.npmrc $(NPM_DIR)/ && \
	  (cd $(NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); \
	fi

## vet: gofmt, go vet and staticcheck, each for the server build and the
## wasm one. With the flags of `make build` and `make wasm`, so vet's
## compiles fill the build cache that the builds (and the tests that build
## binaries) then only link from: on a cold cache every other combination
## compiles every dependency again (over two minutes each). staticcheck is
## pinned by go.mod's tool directive (honnef.co/go/tools) and built into
## build/ for both runs; its go list sees the same flags (VETFLAGS), so it
## too reuses vet's compiles, and its own cache makes a warm run take seconds.
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 $(GO) vet -trimpath ./...
	GOOS=js GOARCH=wasm $(GO) vet -trimpath ./app/... ./wasm/...
	@mkdir -p build
	$(GO) build -o $(STATICCHECK) honnef.co/go/tools/cmd/staticcheck
	CGO_ENABLED=0 GOFLAGS='$(VETFLAGS)' $(STATICCHECK) ./...
	GOOS=js GOARCH=wasm GOFLAGS='$(VETFLAGS)' $(STATICCHECK) ./app/... ./wasm/...

## test: the whole suite, race detector on
test: tools wasm vet
	$(GO) test -race -count=1 -timeout 14m ./...

## fuzz: every fuzz target for FUZZTIME each (default 30s; FUZZPARALLEL workers, default 1);
## the committed seeds (f.Add and testdata/fuzz) run in `make test` as ordinary tests
fuzz:
	FUZZTIME=$(or $(FUZZTIME),30s) GO=$(GO) deploy/fuzz/fuzz.sh

## test-short: the suite without the slow cross-process and browser tests
test-short:
	$(GO) test -race -short -count=1 ./...

## screenshots: the main screens at 1280×800 and 390×844, light and dark, as PNGs in
## docs/screenshots (headless Chromium, e2e's TestScreenshots, and TestOIDCJourney's
## sign-in with a provider button and Connected accounts card)
screenshots: tools
	E2E_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^(TestScreenshots|TestOIDCJourney)$$' ./e2e/browser/

## lighthouse: Lighthouse (desktop) on / and /signin as a new visitor, median of 3;
## fails below performance 80, accessibility 100, best practices 100 (about 3 minutes)
lighthouse: tools wasm
	deploy/bench/lighthouse.sh

## bench-startup: how soon a new visitor can use the sign-in form, first visit
## (unthrottled and at 10 Mbit/s) and repeat visit (e2e's BenchmarkStartup)
bench-startup: tools
	$(GO) test -run '^$$' -bench '^BenchmarkStartup$$' -benchtime 5x -count=1 ./e2e/browser/

## bench: benchmarks, then the cluster load test through nginx (deploy/cluster/bench.sh);
## results are written up in docs/BENCHMARKS.md
bench: tools wasm build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...
	deploy/cluster/bench.sh

## bench-api: the single-instance API benchmark of issues 2 and 16 (about 12 minutes;
## prints Markdown rows, and at the end the one table of issue 16 part 3)
bench-api: tools
	deploy/bench/api.sh

## bench-wal: an hour of paced writes (200/s), WAL size and the longest write each ten
## minutes (issue 16 part 2; deploy/bench/wal.sh, BENCH_WAL_MINUTES shortens it)
bench-wal:
	deploy/bench/wal.sh

## cluster: three instances, Redis and nginx on loopback, at http://127.0.0.1:8088
## (deploy/cluster/cluster.sh; data and logs in build/cluster)
cluster: tools build
	deploy/cluster/cluster.sh up

## cluster-down: stop what `make cluster` started
cluster-down:
	deploy/cluster/cluster.sh down

clean:
	rm -rf bin build
