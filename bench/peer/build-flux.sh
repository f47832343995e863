#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller from the wrapper modules under bench/peer/go/ (Flux's own Go
# modules at pinned versions, fetched through the Go module proxy, never vendored) into the same cache as
# tools/cluster/build-binaries.sh: keyed by tool, version and a hash of the module files, one build at a time (a flock of its own).
# Opt-in: only the peer benchmark needs it, so CI and `./dev test` never pay for it. The last line on stdout is a PATH
# fragment holding both binaries.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${CAPSTAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}/bin
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin "$HOME/go/bin"; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
fi
command -v go >/dev/null 2>&1 || { echo "build-flux: Go is required (go 1.26+) to build Flux's controllers" >&2; exit 1; }

# tool | module whose version names the build | package to build
specs=(
  "source-controller|github.com/fluxcd/source-controller|github.com/fluxcd/source-controller"
  "kustomize-controller|github.com/fluxcd/kustomize-controller|github.com/fluxcd/kustomize-controller"
)

mkdir -p "$cache"
# Its own lock, not build-binaries.sh's: a Flux build takes many minutes and must not hold up the tests' binaries.
exec 9>"$cache/.lock-flux"
flock 9

path_parts=()
for spec in "${specs[@]}"; do
  IFS='|' read -r tool mod pkg <<<"$spec"
  dir="$here/go/$tool"
  version=$(awk -v m="$mod" '$1=="require" && $2==m {print $3; exit} $1==m {print $2; exit}' "$dir/go.mod")
  [ -n "$version" ] || { echo "build-flux: no version of $mod in $dir/go.mod" >&2; exit 1; }
  hash=$(cat "$dir/go.mod" "$dir/go.sum" <(echo "$pkg") | sha256sum | cut -c1-12)
  out="$cache/flux-$tool-$version-$hash"
  path_parts+=("$out")
  [ -f "$out/.complete" ] && continue
  echo "build-flux: building $tool $version (cold builds take many minutes)" >&2
  tmp="$cache/.tmp-flux-$tool-$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  t0=$(date +%s)
  (cd "$dir" && nice go build -trimpath -ldflags "-s -w" -o "$tmp/$tool" "$pkg")
  touch "$tmp/.complete"
  rm -rf "$out" && mv "$tmp" "$out"
  echo "build-flux: built $tool $version in $(( $(date +%s) - t0 ))s" >&2
done
(IFS=:; echo "${path_parts[*]}")
