# closematrix — the front door. Needs only Go and make.
#   make matrix   run the catalogue here, write results/<label>.json, render results/MATRIX.md
#                 and results/index.html from every file in results/, print their summary
#   make test     unit tests, the Ginkgo suite (also under ginkgo -p), gofmt, and the
#                 windows/darwin vet and test-compile checks

GO      ?= go
GOOS    := $(shell $(GO) env GOOS)
GOARCH  := $(shell $(GO) env GOARCH)
LABEL   ?= $(GOOS)-$(GOARCH)
REPEAT  ?= 3
RESULTS := $(CURDIR)/results
BIN     := $(CURDIR)/bin
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null)
CLOSEMATRIX := $(BIN)/closematrix
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Flags for the suite binary: which spec runner test to run, and where to write.
SUITE_FLAGS = -test.run '^TestHarness$$' -closematrix.out=$(RESULTS)/$(LABEL).json \
	-closematrix.label=$(LABEL) -closematrix.repeat=$(REPEAT) -closematrix.commit=$(COMMIT) \
	-closematrix.runner=$(RUNNER)

.PHONY: matrix run views gonet render check-counters test test-unit test-parallel check-parallel check-repeat check-fmt check-cross test-wine wine-deps bench time clean

# matrix prints the summary (under 150 lines of 100 columns); the whole table
# is in MATRIX.md, index.html and `closematrix render --format text`.
matrix: run views render
	@$(CLOSEMATRIX) render --format summary $(RESULTS)/*.json

$(BIN)/harness.test: FORCE
	@$(GO) test -c -o $@ ./harness

$(CLOSEMATRIX): FORCE
	@$(GO) build -o $@ ./cmd/closematrix

FORCE:

# run: the catalogue on this machine, written to results/$(LABEL).json.
# Colour only on a terminal: logs and CI get plain text.
run: $(BIN)/harness.test
	@[ -t 1 ] || nocolor=-ginkgo.no-color; cd harness && $(BIN)/harness.test $(SUITE_FLAGS) $$nocolor

# gonet: the same catalogue through Go's net package, written to
# results/$(LABEL)-gonet.json: what a Go program gets.
# views: the catalogue through each built-in runtime agent (agents/, issue
# 18) whose runtime is on PATH, each written to results/$(LABEL)-<view>.json;
# a view whose runtime is missing is skipped with a line that says so.
VIEWS ?= python asyncio node java rust
views: $(BIN)/harness.test
	@for v in $(VIEWS); do \
	  case $$v in node) rt=node;; java) rt=java;; rust) rt=rustc;; *) rt=python3;; esac; \
	  if ! command -v $$rt >/dev/null; then echo "views: $$v skipped: $$rt is not on PATH"; continue; fi; \
	  (cd harness && $(BIN)/harness.test $(SUITE_FLAGS) -ginkgo.no-color -ginkgo.succinct -closematrix.view=$$v \
	    -closematrix.label=$(LABEL)-$$v -closematrix.out=$(RESULTS)/$(LABEL)-$$v.json >/dev/null) || exit 1; \
	  echo "views: wrote results/$(LABEL)-$$v.json ($$($$rt --version 2>&1 | head -1))"; \
	done

gonet: $(BIN)/harness.test
	@[ -t 1 ] || nocolor=-ginkgo.no-color; cd harness && $(BIN)/harness.test $(SUITE_FLAGS) $$nocolor \
	  -closematrix.view=gonet -closematrix.label=$(LABEL)-gonet -closematrix.out=$(RESULTS)/$(LABEL)-gonet.json

# render: every result file in results/ into MATRIX.md and index.html.
render: $(CLOSEMATRIX)
	@$(CLOSEMATRIX) render --format md -o $(RESULTS)/MATRIX.md $(RESULTS)/*.json
	@$(CLOSEMATRIX) render --format html -o $(RESULTS)/index.html $(RESULTS)/*.json
	@echo "wrote $(RESULTS)/MATRIX.md and $(RESULTS)/index.html"

test: check-fmt test-unit check-counters check-parallel check-cross

# check-counters: on Linux the RSTs-sent counter must agree with the capture
# for every wired scenario (issue 21.6), played with nothing else running:
# the counters are system-wide, so it is not part of the parallel go test.
check-counters:
	@CLOSEMATRIX_COUNTERS_ALONE=1 $(GO) test -count=1 -run '^TestCountersAgreeWithCapture$$' -v ./harness | grep -E '^(--- |ok|FAIL|\s+counters_linux_test)' 

test-unit:
	$(GO) test -race -count=1 ./...

# The suite under the ginkgo CLI pinned by go.mod, in parallel processes; the
# result file is still written once, by ReportAfterSuite.
test-parallel:
	@tmp=$$(mktemp -d) && \
	$(GO) tool ginkgo -p --no-color --succinct ./harness -- -closematrix.out=$$tmp/p.json && \
	test -s $$tmp/p.json && echo "ginkgo -p wrote $$tmp/p.json" && rm -rf $$tmp

# check-parallel: the concurrent runner must record what a serial one
# records. Three runs of the suite binary's catalogue, each writing a result
# file: one scenario at a time (-closematrix.workers=1), on RunAll's pool (the
# default), and under ginkgo -p; closematrix diff says which cells differ
# (exit 1). CHECK_REPEAT runs per scenario (1 keeps it cheap enough for CI).
CHECK_REPEAT ?= 1
check-parallel: $(BIN)/harness.test $(CLOSEMATRIX)
	@tmp=$$(mktemp -d) && cd harness && \
	$(BIN)/harness.test -test.run '^TestHarness$$' -ginkgo.no-color -closematrix.repeat=$(CHECK_REPEAT) \
	  -closematrix.workers=1 -closematrix.out=$$tmp/serial.json >/dev/null && \
	$(BIN)/harness.test -test.run '^TestHarness$$' -ginkgo.no-color -closematrix.repeat=$(CHECK_REPEAT) \
	  -closematrix.out=$$tmp/pool.json >/dev/null && \
	$(GO) tool ginkgo -p --no-color --succinct . -- -closematrix.repeat=$(CHECK_REPEAT) \
	  -closematrix.out=$$tmp/parallel.json >/dev/null && \
	$(CLOSEMATRIX) diff $$tmp/serial.json $$tmp/pool.json && \
	$(CLOSEMATRIX) diff $$tmp/serial.json $$tmp/parallel.json && \
	echo "RunAll's pool and ginkgo -p recorded what the serial run recorded"; \
	rc=$$?; rm -rf $$tmp; exit $$rc

# check-repeat: N concurrent runs of the whole catalogue (REPEAT runs per
# scenario each), every one against the committed results/$(LABEL).json:
# closematrix diff counts a cell whose outcome or variants differ. KEEP=DIR
# keeps the result files that differ there.
N ?= 20
check-repeat: $(BIN)/harness.test $(CLOSEMATRIX)
	@tmp=$$(mktemp -d) && cd harness && fail=0 && \
	for i in $$(seq $(N)); do \
	  $(BIN)/harness.test -test.run '^TestHarness$$' -ginkgo.no-color -closematrix.repeat=$(REPEAT) \
	    -closematrix.out=$$tmp/$$i.json >/dev/null || fail=1; \
	  $(CLOSEMATRIX) diff $(RESULTS)/$(LABEL).json $$tmp/$$i.json >$$tmp/$$i.diff || { fail=1; cat $$tmp/$$i.diff; \
	    [ -z "$(KEEP)" ] || cp $$tmp/$$i.json $(KEEP)/repeat-$$i.json; }; \
	done; \
	[ $$fail = 0 ] && echo "$(N) concurrent runs recorded what results/$(LABEL).json records"; \
	rm -rf $$tmp; exit $$fail

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Windows, darwin and FreeBSD code must vet and every package's tests must compile for
# each, here, before any runner sees them.
check-cross:
	@for os in windows darwin freebsd; do \
	  echo "GOOS=$$os go vet ./... && go test -c ./..."; \
	  GOOS=$$os GOARCH=amd64 $(GO) vet ./... || exit 1; \
	  tmp=$$(mktemp -d); GOOS=$$os GOARCH=amd64 $(GO) test -c -o $$tmp/ ./... || { rm -rf $$tmp; exit 1; }; \
	  ls $$tmp; rm -rf $$tmp; \
	done
	@# A Unix closematrix has no probes for must still build, its capabilities
	@# reported unsupported (probes/sys_noprobes.go, eventloop_nowatch.go).
	@for os in openbsd netbsd; do \
	  echo "GOOS=$$os go vet ./... && go build ./... && go test -c ./..."; \
	  GOOS=$$os GOARCH=amd64 $(GO) vet ./... && GOOS=$$os GOARCH=amd64 $(GO) build ./... || exit 1; \
	  tmp=$$(mktemp -d); GOOS=$$os GOARCH=amd64 $(GO) test -c -o $$tmp/ ./... || { rm -rf $$tmp; exit 1; }; \
	  rm -rf $$tmp; \
	done

# time: wall time of the catalogue (once built), 5 runs, and the median.
# FILTER picks scenarios by label, e.g. make time FILTER=core.
FILTER ?=
time: $(BIN)/harness.test
	@cd harness && for i in 1 2 3 4 5; do \
	  s=$$(date +%s%N); $(BIN)/harness.test -test.run '^TestHarness$$' -closematrix.repeat=$(REPEAT) \
	    $(if $(FILTER),-ginkgo.label-filter='$(FILTER)') >/dev/null || exit 1; \
	  echo $$(( ($$(date +%s%N) - s) / 1000000 )); \
	done | sort -n | awk '{ a[NR] = $$1; printf "run: %d ms\n", $$1 } END { printf "median of %d: %d ms\n", NR, a[int((NR+1)/2)] }'

# test-wine: the Windows build, run for real under Wine (DESIGN §7): the probes'
# Windows tests, then the whole harness suite, whose result file is
# results/windows-amd64-wine.json (the emulator is detected, never assumed).
# WINE_TIMEOUT bounds each Wine run; a hang fails with a message, not forever.
WINE_TIMEOUT ?= 300
test-wine: wine-deps
	@GOOS=windows GOARCH=amd64 $(GO) test -c -o $(BIN)/probes.exe ./probes
	@GOOS=windows GOARCH=amd64 $(GO) test -c -o $(BIN)/harness.exe ./harness
	@echo "wine: probes' Windows tests"
	@WINE_TIMEOUT=$(WINE_TIMEOUT) wine/run.sh $(BIN)/probes.exe -test.count=1
	@echo "wine: the harness suite over the whole catalogue"
	@WINE_TIMEOUT=$(WINE_TIMEOUT) wine/run.sh $(BIN)/harness.exe -test.count=1 \
	  -closematrix.out=$(RESULTS)/windows-amd64-wine.json -closematrix.repeat=$(REPEAT) \
	  -closematrix.commit=$(COMMIT) -ginkgo.no-color
	@echo "wine: wrote $(RESULTS)/windows-amd64-wine.json"

# wine-deps installs Wine and mingw-w64 (for the ProcessPrng shim) from
# Debian's packages when they are missing.
wine-deps:
	@command -v wine >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null || { \
	  echo "installing wine, wine64, mingw-w64"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wine wine64 mingw-w64 >/dev/null; }

# bench: the catalogue's wall time on RunAll's pool, then each group's
# (Scenario.Group) played alone, with the share of the scenarios' summed time
# spent in bounds that expired, signals and TCP's timers; then the matrix's
# render benchmarks (30 columns × 200 scenarios: budget 1 s).
bench:
	@$(GO) test ./harness -run '^$$' -bench 'Catalogue|Views' -benchtime 1x | grep -E '^(Benchmark|ok|group|catalogue|view)'
	@$(GO) test ./matrix -run '^$$' -bench 'RenderHTML|Publish30x200' -benchmem | grep -E '^(Benchmark|ok)'

clean:
	rm -rf $(BIN)

# --- CI parity: what .github/workflows runs, runnable here -------------------
# The matrix jobs call scripts/ci-*.sh directly (Windows runners have bash but
# no make); these targets run the same scripts.
ACTIONLINT_VERSION := v1.7.12
# The CI label: LABEL when given (command line or environment), else
# GOOS-GOARCH-RUNNER, or GOOS-GOARCH without a RUNNER.
CI_LABEL = $(if $(filter-out file default undefined,$(origin LABEL)),$(LABEL),$(GOOS)-$(GOARCH)$(if $(RUNNER),-$(RUNNER)))
MERGE_IN ?= $(RESULTS)

.PHONY: lint ci-suite ci-drift merge dist test-action check-run

# lint: actionlint, pinned, installed into ./bin, on .github/workflows (and
# the action.yml they use as ./). It runs shellcheck on every run: block when
# shellcheck is on PATH; so does this target on scripts/*.sh. Without
# shellcheck: a note here, a failure in CI.
lint:
	@GOBIN=$(BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(BIN)/actionlint
	@if command -v shellcheck >/dev/null; then \
	  shellcheck scripts/*.sh && echo "lint: actionlint $(ACTIONLINT_VERSION) and $$(shellcheck --version | sed -n 's/^version: /shellcheck /p'): clean"; \
	elif [ "$$CI" = true ]; then echo "lint: shellcheck is not installed"; exit 1; \
	else echo "lint: shellcheck not installed (apt-get install shellcheck): run: blocks and scripts/*.sh were not shell-checked"; fi

# ci-suite: the suite as a matrix job runs it, here: make ci-suite RUNNER=name
# [LABEL=...] writes out/results/$(CI_LABEL).json and out/junit-$(CI_LABEL).xml.
ci-suite:
	@bash scripts/ci-suite.sh '$(RUNNER)' '$(CI_LABEL)'

# ci-drift: that file against the committed results/$(CI_LABEL).json.
ci-drift:
	@bash scripts/ci-drift.sh '$(CI_LABEL)'

# merge: the merge job without the download: every result file in MERGE_IN
# (default results/) rendered into out/matrix/ (MATRIX.md, index.html,
# matrix.csv, matrix.json, claims.txt, and summary.md capped for a job summary).
merge:
	@bash scripts/ci-merge.sh '$(MERGE_IN)' out/matrix

# dist: the release binaries, as release.yml builds them on a vX.Y.Z tag:
# closematrix-{linux,windows,darwin,freebsd}-{amd64,arm64} and SHA256SUMS in
# dist/. VERSION defaults to git describe.
dist:
	@bash scripts/ci-dist.sh $(VERSION)

# test-action: scripts/action.sh, the reusable action's step (action.yml),
# in a fake Actions environment: outputs, job summary, drift, exit statuses.
test-action:
	@bash scripts/test-action.sh

# check-run: `closematrix run` must record what the Ginkgo suite records for
# the same label filter (one runner, one catalogue, one result file).
# closematrix diff names any cell that differs (exit 1).
RUN_FILTER ?= (core || kill || exit) && !needs-root
check-run: $(BIN)/harness.test $(CLOSEMATRIX)
	@tmp=$$(mktemp -d) && \
	(cd harness && $(BIN)/harness.test -test.run '^TestHarness$$' -ginkgo.no-color -ginkgo.label-filter='$(RUN_FILTER)' \
	  -closematrix.out=$$tmp/suite.json >/dev/null) && \
	$(CLOSEMATRIX) run -label-filter '$(RUN_FILTER)' -o $$tmp/run.json 2>/dev/null >/dev/null && \
	$(CLOSEMATRIX) diff $$tmp/suite.json $$tmp/run.json && echo "closematrix run recorded what the suite recorded"; \
	rc=$$?; rm -rf $$tmp; exit $$rc
