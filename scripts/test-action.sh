#!/usr/bin/env bash
# test-action.sh — test scripts/action.sh (the GitHub Action's step) here, in
# a fake Actions environment: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
# RUNNER_TEMP are files and a directory of its own. It plays a few fast
# scenarios (process ones included) and checks, case by case, the exit
# status, the step outputs and the job summary:
#
#   a run with no baseline           exit 0, drift=none, the table in the summary
#   its own file as the baseline     exit 0, drift=false
#   a baseline with one cell changed exit 1, drift=true, the change in the summary
#   …with fail-on-drift false        exit 0, drift=true
#   a baseline directory without the file   exit 0 and a warning
#   view gonet                       label <goos>-<goarch>-<runner>-gonet,
#                                    platform.view gonet in the file
#   view gonet, a label given        that label, platform.view still gonet
#   bad inputs                       exit 2
#
# Locally and in .ci/run: make test-action.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
	echo "test-action: FAIL: $*"
	fails=$((fails + 1))
}

# act NAME WANT-STATUS [VAR=VALUE...]: run action.sh with a fresh output and
# summary file and the given inputs; check its exit status.
act() {
	local name=$1 want=$2
	shift 2
	: >"$tmp/output"
	: >"$tmp/summary"
	local status=0
	env GITHUB_OUTPUT="$tmp/output" GITHUB_STEP_SUMMARY="$tmp/summary" RUNNER_TEMP="$tmp" \
		CMX_LABEL_FILTER='(kill || exit || close) && idle && v4 && !slow && !needs-root' \
		CMX_REPEATS=1 CMX_RUNNER=laptop "$@" \
		bash scripts/action.sh >"$tmp/log" 2>&1 || status=$?
	if [ "$status" -ne "$want" ]; then
		fail "$name: exit $status, want $want"
		sed 's/^/    /' "$tmp/log"
	else
		echo "test-action: $name: exit $status"
	fi
}
has() { # FILE TEXT CASE
	grep -qF -- "$2" "$1" || fail "$3: $(basename "$1") lacks '$2'"
}
view_of() { # FILE: its platform.view, as the matrix reads it
	sed -n 's/^    "view": "\(.*\)",$/\1/p' "$1"
}

label=$(go env GOOS | tr -d '\r')-$(go env GOARCH | tr -d '\r')-laptop
result=$tmp/closematrix/$label.json

act "no baseline" 0
has "$tmp/output" "label=$label" "no baseline"
has "$tmp/output" "result-file=$result" "no baseline"
has "$tmp/output" "drift=none" "no baseline"
has "$tmp/output" "harness-failed=false" "no baseline"
has "$tmp/summary" "| $label |" "no baseline"
has "$tmp/summary" "v4/kill/idle" "no baseline"
has "$tmp/output" "view=raw" "no baseline"
[ -s "$result" ] || fail "no baseline: no result file $result"
[ "$(view_of "$result")" = raw ] || fail "no baseline: platform.view '$(view_of "$result")' in $result, want raw"

# A view: the runner then the view in the label, and the view in the file.
act "view gonet" 0 CMX_VIEW=gonet
has "$tmp/output" "label=$label-gonet" "view gonet"
has "$tmp/output" "view=gonet" "view gonet"
has "$tmp/output" "result-file=$tmp/closematrix/$label-gonet.json" "view gonet"
[ "$(view_of "$tmp/closematrix/$label-gonet.json")" = gonet ] ||
	fail "view gonet: platform.view '$(view_of "$tmp/closematrix/$label-gonet.json")', want gonet"
grep -qF '"runtime": "go' "$tmp/closematrix/$label-gonet.json" || fail "view gonet: no platform.runtime go…"
act "view gonet, label given" 0 CMX_VIEW=gonet CMX_LABEL=my-library
has "$tmp/output" "label=my-library" "label given"
[ "$(view_of "$tmp/closematrix/my-library.json")" = gonet ] ||
	fail "label given: platform.view '$(view_of "$tmp/closematrix/my-library.json")', want gonet"
act "view gonet, a label like a raw one" 0 CMX_VIEW=gonet CMX_LABEL="$label-ubuntu"
[ "$(view_of "$tmp/closematrix/$label-ubuntu.json")" = gonet ] ||
	fail "label without the view: platform.view '$(view_of "$tmp/closematrix/$label-ubuntu.json")', want gonet"

# A library's own agent: the exec view with the agent's command line.
act "view exec, an agent" 0 CMX_VIEW=exec CMX_AGENT="python3 $PWD/agents/python/agent.py"
has "$tmp/output" "label=$label-exec" "view exec"
[ "$(view_of "$tmp/closematrix/$label-exec.json")" = exec ] ||
	fail "view exec: platform.view '$(view_of "$tmp/closematrix/$label-exec.json")', want exec"
grep -qF '"runtime": "CPython' "$tmp/closematrix/$label-exec.json" || fail "view exec: no platform.runtime CPython…"
act "agent without view exec" 2 CMX_AGENT="python3 agents/python/agent.py"
act "view exec without an agent" 2 CMX_VIEW=exec

act "CMX_STARTED created" 0 CMX_STARTED="$tmp/started"
[ -e "$tmp/started" ] || fail "CMX_STARTED: action.sh did not create $tmp/started"

mkdir -p "$tmp/base" "$tmp/empty"
cp "$result" "$tmp/base/$label.json"
act "baseline: the same file" 0 CMX_BASELINE="$tmp/base"
has "$tmp/output" "drift=false" "same file"

# One cell changed: the first eof becomes a reset.
awk '!done && sub(/"class": "eof"/, "\"class\": \"reset\"") { done = 1 } { print }' \
	"$result" >"$tmp/base/$label.json"
cmp -s "$result" "$tmp/base/$label.json" && fail "the doctored baseline is unchanged"
act "baseline: one cell changed" 1 CMX_BASELINE="$tmp/base/$label.json"
has "$tmp/output" "drift=true" "drift"
has "$tmp/summary" "### Drift from $tmp/base/$label.json" "drift"
has "$tmp/log" "::warning file=" "drift"
has "$tmp/log" "::error title=closematrix drift::" "drift"

act "drift, fail-on-drift false" 0 CMX_BASELINE="$tmp/base" CMX_FAIL_ON_DRIFT=false
has "$tmp/output" "drift=true" "fail-on-drift false"

act "baseline not committed yet" 0 CMX_BASELINE="$tmp/empty"
has "$tmp/log" "::warning title=closematrix drift::no baseline $tmp/empty/$label.json" "no baseline yet"
has "$tmp/output" "drift=none" "no baseline yet"

act "repeats 0" 2 CMX_REPEATS=0
act "bad label filter" 2 CMX_LABEL_FILTER='abort &&'
act "fail-on-drift maybe" 2 CMX_FAIL_ON_DRIFT=maybe
act "view netty" 2 CMX_VIEW=netty

if [ "$fails" -gt 0 ]; then
	echo "test-action: $fails failure(s)"
	exit 1
fi
echo "test-action: scripts/action.sh passed every case"
