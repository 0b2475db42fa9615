#!/usr/bin/env bash
# ci-drift.sh LABEL [CURRENT] — compare this run's result file (CURRENT,
# default out/results/LABEL.json, as written by ci-suite.sh) with the
# committed baseline results/LABEL.json, where one exists.
#
# Drift is reported, never fatal: each changed cell is printed (and, in GitHub
# Actions, becomes a ::warning annotation and a job-summary section) and the
# script exits 0. Only bad input — closematrix diff's exit 2: an unreadable
# file, a schema error, a baseline of another platform — fails it.
#
# The command is built, not `go run`: go run turns every non-zero exit status
# into 1, which would hide the difference between drift (1) and bad input (2).
# Locally: make ci-drift LABEL=...
set -euo pipefail
# CMX_STARTED: a file to create first thing; the Windows drift step in
# matrix.yml starts this script again when it finds none (a bash that exits
# 0 without running: actions/partner-runner-images#169).
if [ -n "${CMX_STARTED:-}" ]; then : >"$CMX_STARTED"; fi
cd "$(dirname "$0")/.."

label=${1:?usage: ci-drift.sh LABEL [CURRENT]}
baseline=results/$label.json
current=${2:-out/results/$label.json}

if [ ! -f "$current" ]; then
	echo "::warning title=closematrix drift::no result file $current: nothing to compare (did the suite run?)"
	exit 0
fi
if [ ! -f "$baseline" ]; then
	echo "::notice title=closematrix drift::no committed baseline $baseline; to track drift for $label, commit this run's result file there"
	exit 0
fi

bin=bin/closematrix$(go env GOEXE | tr -d '\r')
go build -o "$bin" ./cmd/closematrix

github=
if [ "${GITHUB_ACTIONS:-}" = true ]; then
	github=--github
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
"$bin" diff ${github:+"$github"} "$baseline" "$current" >"$report"
status=$?
set -e
cat "$report"

case $status in
0)
	echo "ci-drift: $label matches $baseline"
	;;
1)
	echo "ci-drift: $label differs from $baseline (reported above; drift does not fail the run)"
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		{
			echo "### Drift: $label against $baseline"
			echo
			echo '```'
			grep -v '^::' "$report" | head -c 200000 || true
			echo '```'
		} >>"$GITHUB_STEP_SUMMARY"
	fi
	;;
*)
	echo "::error title=closematrix drift::closematrix diff $baseline $current failed (exit $status): bad input"
	exit "$status"
	;;
esac
