#!/usr/bin/env bash
# Checks the Windows package under Wine, with Xvfb: hooktray.exe --version; serve, a webhook sent
# with curl acknowledged and listed by hooktray.exe events list; the desktop app opens its window.
# Debian's Wine 8 lacks bcryptprimitives.dll, which Go 1.24+ programs load at start: a small
# stand-in (packaging/windows/wine/bcryptprimitives.c, ProcessPrng over RtlGenRandom) is built
# with MinGW into the Wine prefix. It exists for this check only; Windows 10 and 11 have the DLL.
set -euo pipefail
zipfile=${1:?usage: check-dist-windows.sh dist/Hooktray-….zip}
cd "$(dirname "$0")/.."
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ! -x /usr/lib/wine/wine64 ] || ! command -v unzip >/dev/null || ! command -v xdotool >/dev/null; then
  $sudo apt-get install -y -qq --no-install-recommends wine64 unzip xvfb xauth xdotool curl >/dev/null
fi
wine=/usr/lib/wine/wine64
work=$(mktemp -d)
export WINEPREFIX="$work/prefix" WINEDEBUG=-all
cleanup() {
  [ -n "${serve:-}" ] && kill "$serve" 2>/dev/null || true
  [ -n "${gui:-}" ] && kill "$gui" 2>/dev/null || true
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
  /usr/lib/wine/wineserver64 -k 2>/dev/null || wineserver -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
unzip -q "$zipfile" -d "$work"
exe=$(find "$work" -name hooktray.exe | head -1)
"$wine" wineboot --init >/dev/null 2>&1 || true
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" packaging/windows/wine/bcryptprimitives.c
"$wine" "$exe" --version | tr -d '\r' | grep -q '^hooktray '
data="$work/data"
mkdir -p "$data"
wdata="Z:$(echo "$data" | tr / '\\')"
"$wine" "$exe" serve --data-dir "$wdata" --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
serve=$!
for _ in $(seq 300); do [ -f "$data/runtime.json" ] && break; sleep 0.2; done
test -f "$data/runtime.json"
url=$("$wine" "$exe" --data-dir "$wdata" endpoints add --name wine-check 2>/dev/null | tr -d '\r')
curl -sf -H 'Content-Type: application/json' -d '{"type":"wine.check"}' "$url" >/dev/null
"$wine" "$exe" --data-dir "$wdata" events list --json | tr -d '\r' | grep -q '"type":"wine.check"'
# Wine does not pass SIGINT on as a console event: end the Windows processes through wineserver.
/usr/lib/wine/wineserver64 -k 2>/dev/null || wineserver -k 2>/dev/null || true
wait "$serve" 2>/dev/null || true
serve=""
# The desktop app opens its window under Xvfb.
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
DISPLAY=$display "$wine" "$exe" --data-dir "$wdata" --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 >"$work/gui.log" 2>&1 &
gui=$!
for _ in $(seq 300); do DISPLAY=$display xdotool search --name '^Hooktray$' >/dev/null 2>&1 && break; sleep 0.2; done
DISPLAY=$display xdotool search --name '^Hooktray$' >/dev/null
echo "windows package OK under Wine: --version, serve received and listed a webhook, the window opened"
