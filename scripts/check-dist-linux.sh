#!/usr/bin/env bash
# Checks the Linux package as a user would use it: unpack, `make install` into a temporary prefix,
# run the installed hooktray (--version, serve), send it a webhook with curl, list it, uninstall.
set -euo pipefail
tarball=${1:?usage: check-dist-linux.sh dist/Hooktray-….tar.gz}
work=$(mktemp -d)
trap 'kill $serve 2>/dev/null || true; rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
pkg=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
make -s -C "$pkg" install PREFIX="$work/prefix"
bin="$work/prefix/bin/hooktray"
test -f "$work/prefix/share/applications/hooktray.desktop"
test -f "$work/prefix/share/icons/hicolor/256x256/apps/hooktray.png"
grep -q "^Exec=$work/prefix/bin/hooktray" "$work/prefix/share/applications/hooktray.desktop"
"$bin" --version | grep -q '^hooktray '
data="$work/data"
"$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 2>"$work/serve.log" &
serve=$!
for _ in $(seq 100); do [ -f "$data/runtime.json" ] && break; sleep 0.1; done
url=$("$bin" --data-dir "$data" endpoints add --name dist-check 2>/dev/null)
curl -sf -H 'Content-Type: application/json' -d '{"type":"dist.check","ok":true}' "$url" >/dev/null
"$bin" --data-dir "$data" events list --json | grep -q '"type":"dist.check"'
kill -INT $serve; wait $serve || true
make -s -C "$pkg" uninstall PREFIX="$work/prefix"
test ! -e "$bin"
echo "linux package OK: installed, received and listed a webhook, uninstalled"
