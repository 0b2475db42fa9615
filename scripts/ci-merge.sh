#!/usr/bin/env bash
# ci-merge.sh [INPUT [OUTDIR]] — merge every result file in INPUT (default
# results/; the workflow passes the downloaded out/results/) into the matrix
# bundle in OUTDIR (default out/matrix):
#
#   MATRIX.md    Markdown table        index.html   the self-contained page
#   matrix.csv   one row per cell      matrix.json  merged JSON
#   claims.txt   the claims' verdicts  summary.md   the Markdown, capped for
#                                                   a GitHub job summary
#
# In GitHub Actions summary.md is appended to $GITHUB_STEP_SUMMARY, which takes
# at most 1 MiB per step: the Markdown is capped at SUMMARY_MAX_BYTES
# (1000000, leaving room under 1048576) by closematrix's --max-bytes, which
# cuts rows with a note. Locally: make merge [MERGE_IN=...].
set -euo pipefail
cd "$(dirname "$0")/.."

in=${1:-results}
out=${2:-out/matrix}
max=${SUMMARY_MAX_BYTES:-1000000}

set -- "$in"/*.json
if [ ! -e "$1" ]; then
	echo "::error title=closematrix merge::no result files in $in/: every suite job failed before writing one, or nothing was downloaded"
	exit 1
fi
echo "ci-merge: $# result file(s) in $in/:"
for f in "$@"; do echo "  $f"; done

bin=bin/closematrix$(go env GOEXE | tr -d '\r')
go build -o "$bin" ./cmd/closematrix
mkdir -p "$out"

"$bin" render --format md -o "$out/MATRIX.md" "$in"
"$bin" render --format html -o "$out/index.html" "$in"
"$bin" render --format csv -o "$out/matrix.csv" "$in"
"$bin" render --format json -o "$out/matrix.json" "$in"
"$bin" claims "$in" >"$out/claims.txt"
"$bin" render --format md --max-bytes "$max" -o "$out/summary.md" "$in"

size=$(wc -c <"$out/summary.md" | tr -d ' ')
if [ "$size" -gt "$max" ]; then # --max-bytes is the cap; this is the belt to its braces
	head -c "$((max - 200))" "$out/summary.md" >"$out/summary.md.tmp"
	printf '\n\n> Cut at %s bytes for the job summary: the whole table is MATRIX.md in the matrix artifact.\n' "$max" >>"$out/summary.md.tmp"
	mv "$out/summary.md.tmp" "$out/summary.md"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	cat "$out/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi

echo "ci-merge: wrote $out/:"
ls -l "$out"
