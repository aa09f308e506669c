#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 20s), one after another, and
# fails on the first finding. New failing inputs are kept in the package's testdata/fuzz, where
# `make test` then replays them for good.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-20s}"
tags="${TAGS:-sqlite_fts5 migrated_fynedo}"
found=0
for pkg in $(go list -tags "$tags" ./...); do
  for target in $(go test -tags "$tags" -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    found=$((found + 1))
    echo "fuzz: $pkg $target for $fuzztime"
    go test -tags "$tags" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/hooktray-fuzz.log 2>&1 || {
      cat /tmp/hooktray-fuzz.log
      echo "fuzz: $target found a failing input (kept under $pkg's testdata/fuzz)" >&2
      exit 1
    }
  done
done
echo "fuzz: $found targets, $fuzztime each: no failures"
