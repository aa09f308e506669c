#!/usr/bin/env bash
# Runs Hooktray's always-on inbox (edge/inbox.js) on this machine under workerd, the runtime
# Cloudflare Workers run on: the same code, offline, its Durable Object's SQLite on disk in
# STATE_DIR. The inbox secret comes from the environment (HOOKTRAY_INBOX_SECRET), never the
# command line. workerd is installed from npm on first use, into the cache. HOOKTRAY_EDGE_SCRIPT
# runs another copy of the Worker than edge/inbox.js (the stand-in of Cloudflare's API runs what
# was uploaded to it).
# Usage: HOOKTRAY_INBOX_SECRET=… scripts/edge-local.sh PORT STATE_DIR
set -euo pipefail
port=${1:?usage: edge-local.sh PORT STATE_DIR}
state=${2:?usage: edge-local.sh PORT STATE_DIR}
: "${HOOKTRAY_INBOX_SECRET:?set HOOKTRAY_INBOX_SECRET to the inbox secret}"
version=1.20261123.1
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${HOOKTRAY_EDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hooktray/workerd-$version}
workerd=$cache/node_modules/@cloudflare/workerd-linux-64/bin/workerd
if [ ! -x "$workerd" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent "@cloudflare/workerd-linux-64@$version" >&2
fi
mkdir -p "$state/do"
chmod 700 "$state"
cp "${HOOKTRAY_EDGE_SCRIPT:-$here/edge/inbox.js}" "$state/inbox.js"
# The config holds the secret: readable by this user only.
umask 077
secret=$(printf '%s' "$HOOKTRAY_INBOX_SECRET" | sed 's/\\/\\\\/g; s/"/\\"/g')
cat >"$state/config.capnp" <<CAPNP
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .inbox),
    (name = "disk", disk = (path = "$state/do", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:$port", http = (), service = "main")],
);
const inbox :Workerd.Worker = (
  modules = [(name = "inbox.js", esModule = embed "inbox.js")],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "INBOX", durableObjectNamespace = "Inbox"),
    (name = "HOOKTRAY_INBOX_SECRET", text = "$secret"),
  ],
  durableObjectNamespaces = [(className = "Inbox", uniqueKey = "hooktray-inbox", enableSql = true)],
  durableObjectStorage = (localDisk = "disk"),
);
CAPNP
exec "$workerd" serve "$state/config.capnp"
