#!/usr/bin/env bash
# wine/run.sh PROGRAM.exe [ARGS...]
#
# Runs a Windows Go binary (e.g. a `GOOS=windows go test -c` binary) under
# Wine in a throwaway prefix and exits with its status (DESIGN §7). Needs
# Debian's wine, wine64 and mingw-w64 (apt-get install wine wine64 mingw-w64).
#
# Wine 8 has no bcryptprimitives.dll!ProcessPrng, which the Go 1.22+ runtime
# needs at start-up; processprng.c is a stand-in built here with mingw-w64
# (cached in $XDG_CACHE_HOME/closematrix-wine) and copied into the prefix's
# system32.
#
# Environment: WINE_TIMEOUT (seconds, default 300) bounds the program's run;
# when it expires the script says so and exits 124.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
	exit 2
fi
prog=$1
shift
if [ ! -f "$prog" ]; then
	echo "$0: $prog: no such file" >&2
	exit 2
fi
for tool in wine wineboot wineserver x86_64-w64-mingw32-gcc timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "$0: $tool not found (apt-get install wine wine64 mingw-w64)" >&2
		exit 127
	fi
done

here=$(cd "$(dirname "$0")" && pwd)
limit=${WINE_TIMEOUT:-300}

# Build the shim once; rebuild when its sources change. Each build writes a
# file of its own and renames it, so concurrent runs never see half a DLL.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/closematrix-wine
dll=$cache/bcryptprimitives.dll
if [ ! -f "$dll" ] || [ "$here/processprng.c" -nt "$dll" ] || [ "$here/processprng.def" -nt "$dll" ]; then
	mkdir -p "$cache"
	if ! x86_64-w64-mingw32-gcc -shared -O2 -s -nostdlib -Wl,--entry=DllMain \
		-o "$dll.$$" "$here/processprng.c" "$here/processprng.def" -ladvapi32; then
		rm -f "$dll.$$"
		echo "$0: building the ProcessPrng shim failed" >&2
		exit 1
	fi
	mv -f "$dll.$$" "$dll"
fi

# A fresh prefix per run: no state leaks between runs, and nothing is left
# behind. WINEDEBUG=-all silences Wine's diagnostics (and Debian's wine32
# hint); disabling mscoree and mshtml keeps wineboot from looking for Mono and
# Gecko, which it cannot download here and which Go programs do not use.
WINEPREFIX=$(mktemp -d "${TMPDIR:-/tmp}/closematrix-wine.XXXXXX")
export WINEPREFIX
export WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree,mshtml="
cleanup() {
	wineserver -k >/dev/null 2>&1 || true
	rm -rf "$WINEPREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! wineboot -i >"$WINEPREFIX/wineboot.log" 2>&1; then
	echo "$0: wineboot -i failed:" >&2
	cat "$WINEPREFIX/wineboot.log" >&2
	exit 1
fi
# Wine 8 imitates Windows 7 by default; Go supports Windows 10 and later.
if ! wine winecfg -v win10 >/dev/null 2>&1; then
	echo "$0: warning: could not set the prefix to Windows 10" >&2
fi
cp "$dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"

# timeout exits 124 when it stopped the program with TERM, 137 when the
# program ignored TERM and got KILL 10 s later.
status=0
SECONDS=0
timeout --kill-after=10 "$limit" wine "$prog" "$@" || status=$?
if [ "$status" -eq 124 ] || { [ "$status" -eq 137 ] && [ "$SECONDS" -ge "$limit" ]; }; then
	echo "wine run timed out after $limit s" >&2
	exit 124
fi
exit "$status"
