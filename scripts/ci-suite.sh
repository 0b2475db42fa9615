#!/usr/bin/env bash
# ci-suite.sh [RUNNER [LABEL]] — run the closematrix catalogue exactly as a job
# of .github/workflows/matrix.yml does, on any OS with Go and bash (Linux,
# macOS's bash 3.2, Git Bash on Windows):
#
#   label   LABEL, else <goos>-<goarch>-<RUNNER> (<goos>-<goarch> without a
#           RUNNER), goos and goarch from `go env`
#   writes  out/results/<label>.json   the result file (schema 2), with
#                                      platform.runner = RUNNER, platform.view
#                                      = raw
#           out/results/<label>-<view>.json  the same through each other view:
#                                      gonet (Go's net package), python,
#                                      asyncio, node, java, rust (the
#                                      runtime agents;
#                                      platform.view = the view); a view
#                                      whose runtime is not on this image is
#                                      a file of skipped scenarios that says
#                                      so, not a failed job
#           out/junit-<label>[-<view>].xml   Ginkgo's JUnit reports
#
# In GitHub Actions it also writes label=<label> to $GITHUB_OUTPUT (first, so
# that the upload steps have it even when the suite fails) and adds
# -ginkgo.github-output. Exit status: the suite's; 1 as well when it wrote no
# result file. Locally: make ci-suite RUNNER=... [LABEL=...].
set -euo pipefail
cd "$(dirname "$0")/.."

runner=${1:-}
goos=$(go env GOOS | tr -d '\r')
goarch=$(go env GOARCH | tr -d '\r')
label=${2:-$goos-$goarch${runner:+-$runner}}
case $label in
'' | *[!A-Za-z0-9._-]*)
	echo "ci-suite: label '$label' must be letters, digits, '.', '_' or '-'" >&2
	exit 2
	;;
esac
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	echo "label=$label" >>"$GITHUB_OUTPUT"
fi

# RUNNER_ARCH (X64, ARM64, ...) is set on every GitHub runner. A Go toolchain
# for another architecture would run emulated, and the column would measure
# the emulation: say so next to the run.
case ${RUNNER_ARCH:-} in
X64) native=amd64 ;;
ARM64) native=arm64 ;;
*) native=$goarch ;;
esac
if [ "$native" != "$goarch" ]; then
	echo "::warning title=closematrix suite::${runner:-this} is an $native runner but go env GOARCH is $goarch: the $label column runs under emulation"
fi

# go test runs the test binary in ./harness, so the paths it gets are
# absolute. Git Bash's `pwd -W` gives the Windows form (D:/a/...) that go.exe
# understands; elsewhere -W is an error and plain pwd is right.
root=$(pwd -W 2>/dev/null || pwd)
mkdir -p out/results
# A file left by an earlier local run must not pass for this run's (below).

commit=${GITHUB_SHA:-$(git rev-parse HEAD 2>/dev/null || true)}
gh_output=
if [ "${GITHUB_ACTIONS:-}" = true ]; then
	gh_output=-ginkgo.github-output
fi

echo "ci-suite: label $label, runner ${runner:-(none)}, $(go version)"
status=0
# The views: raw sockets (the OS's answers) under <label>, then Go's net
# package and the runtime agents (what a Go, Python, asyncio, Node, Java or
# Rust program
# gets) under <label>-<view>. The suite records the view as platform.view
# (-closematrix.view), which is what the matrix files the column by; the
# suffix names the file. CLOSEMATRIX_VIEWS overrides the list.
# On Windows asyncio also runs on the selector loop as a view of its own
# (asyncio-selector): its default there is the Proactor, and the two answer
# differently (python/cpython#109215, python/asyncio#319). Elsewhere the
# selector loop is the default, so that view would repeat asyncio's.
views="raw gonet python asyncio node java rust"
[ "$goos" != windows ] || views="$views asyncio-selector"
for view in ${CLOSEMATRIX_VIEWS:-$views}; do
	l=$label
	[ "$view" = raw ] || l=$label-$view
	rm -f "out/results/$l.json" "out/junit-$l.xml"
	set +e
	set -x
	go test ./harness -run '^TestHarness$' -count=1 -args \
		-closematrix.view="$view" \
		-closematrix.out="$root/out/results/$l.json" \
		-closematrix.label="$l" \
		-closematrix.runner="$runner" \
		-closematrix.commit="$commit" \
		-ginkgo.junit-report="$root/out/junit-$l.xml" \
		${gh_output:+"$gh_output"}
	s=$?
	{ set +x; } 2>/dev/null
	set -e
	if [ ! -s "out/results/$l.json" ]; then
		echo "::error title=closematrix suite::the suite (exit $s) wrote no result file out/results/$l.json"
		[ "$s" -ne 0 ] || s=1
	elif ! grep -q "\"view\": \"$view\"" "out/results/$l.json"; then
		# The merge files the column by platform.view: without it, a gonet
		# column would be read by its label alone.
		echo "::error title=closematrix suite::out/results/$l.json does not say \"view\": \"$view\""
		[ "$s" -ne 0 ] || s=1
	else
		echo "ci-suite: wrote out/results/$l.json (view $view) and out/junit-$l.xml (suite exit $s)"
	fi
	[ "$s" -eq 0 ] || status=$s
done
exit "$status"
