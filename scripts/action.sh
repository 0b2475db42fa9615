#!/usr/bin/env bash
# action.sh — what the closematrix GitHub Action (action.yml) does, in one
# script that runs the same on a workstation (make test-action runs it there):
# build closematrix from this checkout, run the catalogue, render the table
# into the job summary, and compare with a committed baseline.
#
# Inputs, from the environment (action.yml maps its inputs onto them):
#   CMX_LABEL_FILTER   Ginkgo label filter; empty: the whole catalogue
#   CMX_REPEATS        runs per scenario (3)
#   CMX_VIEW           raw, gonet, python, asyncio, node, java, rust or exec (raw), recorded as platform.view in the
#                      result file whatever the label (the matrix files the
#                      column by it)
#   CMX_AGENT          with CMX_VIEW=exec: the command line of the agent to
#                      run (docs/agent-protocol.md), split at spaces, e.g.
#                      "node ./test/closematrix-agent.js"; the library's own
#                      column (closematrix run -view exec -- CMD ARGS…)
#   CMX_RUNNER         recorded as platform.runner and appended to the label;
#                      default: the hosted runner's image, $ImageOS
#   CMX_LABEL          the whole column name; default
#                      <goos>-<goarch>[-<runner>][-<view>] (no -raw), the
#                      shape of the matrix workflow's labels
#   CMX_BASELINE       a committed result file, or a directory holding
#                      <label>.json; empty: no drift check
#   CMX_FAIL_ON_DRIFT  true: drift from the baseline fails (exit 1) (true)
#   CMX_OUT_DIR        where everything goes ($RUNNER_TEMP/closematrix, else
#                      out/action)
#   CMX_VERSION        recorded as the tool's version (the action's ref)
#   CMX_STARTED        a file to create first thing (action.yml's Windows step
#                      checks that bash started)
#
# Writes into CMX_OUT_DIR: bin/closematrix, <label>.json (the result file),
# summary.md (what goes into $GITHUB_STEP_SUMMARY), drift.txt (when a
# baseline was compared). In GitHub Actions it sets the step outputs label,
# view, result-file, drift (true/false/none) and harness-failed (true/false).
#
# Exit status: 0; 1 when the harness failed (closematrix run exit 1) or, with
# CMX_FAIL_ON_DRIFT=true, when the run drifted from the baseline; 2 for bad
# inputs. How the platform answered never fails it: that is the data.
set -euo pipefail
# action.yml's Windows step (pwsh) starts this script again unless it sees
# that bash started at all: this file, created first thing.
if [ -n "${CMX_STARTED:-}" ]; then : >"$CMX_STARTED"; fi

root=$(cd "$(dirname "$0")/.." && pwd) # the action's own checkout
filter=${CMX_LABEL_FILTER:-}
repeats=${CMX_REPEATS:-3}
view=${CMX_VIEW:-raw}
agent=${CMX_AGENT:-}
runner=${CMX_RUNNER:-${ImageOS:-}}
baseline=${CMX_BASELINE:-}
fail_on_drift=${CMX_FAIL_ON_DRIFT:-true}
out=${CMX_OUT_DIR:-${RUNNER_TEMP:+$RUNNER_TEMP/closematrix}}
out=${out:-out/action}
# Git Bash on Windows: a path both bash and closematrix.exe read (D:/a/...).
if command -v cygpath >/dev/null; then
	out=$(cygpath -m "$out")
fi

case $fail_on_drift in
true | false) ;;
*)
	echo "::error title=closematrix::fail-on-drift is '$fail_on_drift': want true or false"
	exit 2
	;;
esac

output() { # name value: a step output in GitHub Actions, a line here
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		echo "$1=$2" >>"$GITHUB_OUTPUT"
	fi
	echo "closematrix: $1=$2"
}
summary() { # append stdin to the job summary, when there is one
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		cat >>"$GITHUB_STEP_SUMMARY"
	else
		cat >/dev/null
	fi
}

# Build. GOFLAGS and go.work are the caller's, not ours: keep them out.
mkdir -p "$out/bin"
goos=$(cd "$root" && go env GOOS | tr -d '\r')
goarch=$(cd "$root" && go env GOARCH | tr -d '\r')
bin=$out/bin/closematrix$(cd "$root" && go env GOEXE | tr -d '\r')
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || true)
pkg=github.com/closematrix/closematrix/harness
ldflags="-X $pkg.Commit=$commit"
if [ -n "${CMX_VERSION:-}" ]; then
	ldflags="$ldflags -X $pkg.Version=$CMX_VERSION"
fi
echo "closematrix: building from $root with $(go version)"
(cd "$root" && GOFLAGS='' GOWORK=off go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin" ./cmd/closematrix)
"$bin" version

# The view goes last, after the runner, as in the matrix workflow's
# <goos>-<goarch>-<runner>-<view>; the label is for people and file names
# only: the view travels in the file as platform.view (closematrix run -view).
label=${CMX_LABEL:-$goos-$goarch${runner:+-$runner}}
if [ -z "${CMX_LABEL:-}" ] && [ "$view" != raw ]; then
	label=$label-$view
fi
result=$out/$label.json
output label "$label"
output view "$view"

# Run. Exit 1 is the harness's own failure; the file is still written and
# uploaded, so it is reported after the summary, not here.
args=(run -label "$label" -repeat "$repeats" -view "$view" -o "$result")
[ -z "$runner" ] || args+=(-runner "$runner")
[ -z "$filter" ] || args+=(-label-filter "$filter")
if [ -n "$agent" ]; then
	if [ "$view" != exec ]; then
		echo "::error title=closematrix::the agent input needs view: exec (view is $view)"
		exit 2
	fi
	# A command line, split at spaces on purpose, never glob-expanded.
	read -r -a agent_argv <<<"$agent"
	args+=(-- "${agent_argv[@]}")
fi
set +e
"$bin" "${args[@]}"
run_status=$?
set -e
case $run_status in
0 | 1) ;;
*)
	echo "::error title=closematrix::closematrix run exited $run_status (bad inputs: label-filter, repeats, view or label)"
	exit "$run_status"
	;;
esac
if [ ! -s "$result" ]; then
	echo "::error title=closematrix::closematrix run (exit $run_status) wrote no result file $result"
	exit 1
fi
output result-file "$result"
harness_failed=false
[ "$run_status" -eq 0 ] || harness_failed=true
output harness-failed "$harness_failed"

# The table (its heading and platform line name the label), capped under
# the job summary's 1 MiB.
"$bin" render --format md --max-bytes 900000 -o "$out/summary.md" "$result"

# Drift against the committed baseline.
drift=none
if [ -n "$baseline" ]; then
	[ ! -d "$baseline" ] || baseline=$baseline/$label.json
	if [ ! -f "$baseline" ]; then
		echo "::warning title=closematrix drift::no baseline $baseline: nothing to compare. To start drift checks, commit this run's result file (the artifact closematrix-$label) as $baseline"
	else
		set +e
		"$bin" diff --github "$baseline" "$result" >"$out/drift.txt"
		diff_status=$?
		set -e
		cat "$out/drift.txt"
		case $diff_status in
		0) drift=false ;;
		1)
			drift=true
			{
				echo
				echo "### Drift from $baseline"
				echo
				echo '```'
				grep -v '^::' "$out/drift.txt" | head -c 50000 || true
				echo '```'
				echo
				echo "If the change is expected, commit this run's result file (artifact closematrix-$label) as $baseline."
			} >>"$out/summary.md"
			;;
		*)
			echo "::error title=closematrix drift::closematrix diff $baseline $result failed (exit $diff_status): bad input"
			exit "$diff_status"
			;;
		esac
	fi
fi
output drift "$drift"
summary <"$out/summary.md"

status=0
if [ "$harness_failed" = true ]; then
	echo "::error title=closematrix::the harness failed in some scenarios (status error in $result); this is closematrix's failure, not a behaviour"
	status=1
fi
if [ "$drift" = true ]; then
	if [ "$fail_on_drift" = true ]; then
		echo "::error title=closematrix drift::$label drifted from $baseline (changed cells above and in the job summary)"
		status=1
	else
		echo "closematrix: $label drifted from $baseline (fail-on-drift is false)"
	fi
fi
exit "$status"
