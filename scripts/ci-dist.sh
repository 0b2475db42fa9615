#!/usr/bin/env bash
# ci-dist.sh [VERSION [OUTDIR]] — cross-build the closematrix release binaries,
# exactly as .github/workflows/release.yml does on a vX.Y.Z tag, into OUTDIR
# (default dist/):
#
#   closematrix-<goos>-<goarch>[.exe]  for linux, windows, darwin, freebsd
#                                      × amd64, arm64
#   SHA256SUMS                         sha256sum's format: check a download
#                                      with `sha256sum -c --ignore-missing`
#
# The names carry no version, so that a release's assets have stable URLs
# (…/releases/latest/download/closematrix-linux-amd64). Each binary is
# static and self-contained (CGO_ENABLED=0: no libc, no Go toolchain, no
# checkout needed on the machine it runs on), built with -trimpath (no local
# paths inside) and without VCS stamping, so the same commit and VERSION give
# the same bytes. VERSION (default: `git describe --tags --dirty`, else
# devel-<short commit>) and the commit go into harness.Version and
# harness.Commit, which every result file records as its tool; `closematrix
# version` prints them. Locally: make dist [VERSION=...].
set -euo pipefail
cd "$(dirname "$0")/.."

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
version=${1:-$(git describe --tags --dirty 2>/dev/null || echo "devel-${commit:0:12}")}
out=${2:-dist}
case $version in
'' | *[!A-Za-z0-9._+-]*)
	echo "ci-dist: version '$version' must be letters, digits, '.', '_', '+' or '-'" >&2
	exit 2
	;;
esac

pkg=github.com/closematrix/closematrix/harness
targets="linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64"

rm -rf "$out"
mkdir -p "$out"
echo "ci-dist: closematrix $version ($commit) with $(go version)"
for t in $targets; do
	goos=${t%/*}
	goarch=${t#*/}
	ext=
	[ "$goos" != windows ] || ext=.exe
	name=closematrix-$goos-$goarch$ext
	# -s -w drop the symbol table and DWARF (a third of the size); panics
	# still print file:line from the runtime's own tables.
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch GOFLAGS='' go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit" \
		-o "$out/$name" ./cmd/closematrix
done

# sha256sum on Linux and Git Bash, shasum on macOS: the same output format.
if command -v sha256sum >/dev/null; then
	sum=(sha256sum)
else
	sum=(shasum -a 256)
fi
(cd "$out" && "${sum[@]}" closematrix-* >SHA256SUMS && "${sum[@]}" -c SHA256SUMS >/dev/null)

echo "ci-dist: wrote $out/:"
ls -l "$out"
