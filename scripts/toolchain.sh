#!/usr/bin/env bash
# Sourced by ./dev and .ci/run: puts Node.js 24+ and the pinned pnpm on PATH without touching the system's node.
# When the machine's node is older than 24, Node comes from the npm package `node@24` (it ships the real binary),
# installed once into a cache outside the checkout.
capstan_cache=${CAPSTAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}
capstan_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
capstan_pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../package.json")

# A node@24 this script installed is used as is (no version check: each node start costs time on every ./dev call).
tools="$capstan_cache/node24"
if [ -x "$tools/node_modules/.bin/node" ]; then
  export PATH="$tools/node_modules/.bin:$PATH"
elif [ "$(capstan_node_major)" -lt 24 ]; then
  command -v npm >/dev/null 2>&1 || { echo "toolchain: need npm (any version) to bring in Node 24" >&2; return 1; }
  echo "toolchain: installing Node 24 from the npm package node@24 into $tools" >&2
  mkdir -p "$tools"
  npm install --silent --no-save --no-audit --no-fund --prefix "$tools" node@24 >&2 || return 1
  export PATH="$tools/node_modules/.bin:$PATH"
fi

# The pinned pnpm in the cache is used as is: asking a pnpm for its version costs most of a second on every ./dev call.
ptools="$capstan_cache/pnpm-$capstan_pnpm_version"
if [ -x "$ptools/node_modules/.bin/pnpm" ]; then
  export PATH="$ptools/node_modules/.bin:$PATH"
elif ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$capstan_pnpm_version" ]; then
  echo "toolchain: installing pnpm $capstan_pnpm_version into $ptools" >&2
  mkdir -p "$ptools"
  npm install --silent --no-save --no-audit --no-fund --prefix "$ptools" "pnpm@$capstan_pnpm_version" >&2 || return 1
  export PATH="$ptools/node_modules/.bin:$PATH"
fi
export PATH="/usr/local/go/bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
