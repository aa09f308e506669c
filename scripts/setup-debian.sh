#!/usr/bin/env bash
# Installs the system packages Hooktray's build and tests need on Debian or Ubuntu, if missing:
# a C compiler for SQLite (cgo), the OpenGL and X11/Wayland headers Fyne builds against, Xvfb to
# run the window headless in tests, curl (the copy-as-cURL test runs what it copies), xdotool
# (the desktop benchmark watches for the window), Node's npm, which installs workerd (the
# Workers runtime the always-on inbox's tests run the real Worker on), and the mosquitto MQTT
# broker with its tools (the MQTT target's tests publish to it).
# Run by `make` before building; does nothing when everything is there or on other systems.
# Arguments add packages a target needs besides (make bench: wrk).
set -euo pipefail

packages=(gcc libc6-dev pkg-config libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev
  xvfb xauth curl xdotool mosquitto mosquitto-clients "$@")
# A Node from elsewhere (nodesource, nvm) brings its own npm, which Debian's npm package conflicts with.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

command -v dpkg-query >/dev/null 2>&1 || exit 0 # not Debian: the README lists what to install

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup: missing packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
