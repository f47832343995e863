#!/usr/bin/env bash
# Sourced by tools/cluster/build-binaries.sh and bench/peer/build-flux.sh: what both do the same way. Binaries built
# from a Go module go into one cache outside the checkout, one directory per tool, keyed by the module's version and a
# hash of its go.mod, go.sum and build arguments, so an unchanged module is never built twice on a machine; a build
# lands in a temp dir and is moved into place whole (marked .complete), so a killed build leaves nothing half-done.
capstan_bin_cache=${CAPSTAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}/bin
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

# capstan_require_go <caller> <what for>: puts Go on PATH (the usual install places) or exits.
capstan_require_go() {
  if ! command -v go >/dev/null 2>&1; then
    for d in /usr/local/go/bin "$HOME/go/bin"; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
  fi
  command -v go >/dev/null 2>&1 || { echo "$1: Go is required (go 1.26+) to build $2" >&2; exit 1; }
}

# capstan_lock <fd> <name>: holds an flock on <cache>/<name> on file descriptor <fd>: one build per lock on a machine,
# a second caller waits and then finds everything built.
capstan_lock() {
  mkdir -p "$capstan_bin_cache"
  eval "exec $1>\"\$capstan_bin_cache/\$2\""
  flock "$1"
}

# capstan_module_version <caller> <module dir> <module path>: the version go.mod requires (or the module's own line).
capstan_module_version() {
  local version
  version=$(awk -v m="$3" '$1=="require" && $2==m {print $3; exit} $1==m {print $2; exit}' "$2/go.mod")
  [ -n "$version" ] || { echo "$1: no version of $3 in $2/go.mod" >&2; exit 1; }
  echo "$version"
}

# capstan_cache_dir <name> <version> <module dir> <build arguments>: where that build lives in the cache.
capstan_cache_dir() {
  local hash
  hash=$(cat "$3/go.mod" "$3/go.sum" <(echo "$4") | sha256sum | cut -c1-12)
  echo "$capstan_bin_cache/$1-$2-$hash"
}

# capstan_built <cache dir>: true when that build is complete.
capstan_built() { [ -f "$1/.complete" ]; }

# capstan_build_dir <name>: a fresh temp dir in the cache to build into (same filesystem, so the move is a rename).
capstan_build_dir() {
  local tmp="$capstan_bin_cache/.tmp-$1-$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  echo "$tmp"
}

# capstan_install <temp dir> <cache dir>: marks the build complete and moves it into place.
capstan_install() {
  touch "$1/.complete"
  rm -rf "$2" && mv "$1" "$2"
}
