#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller from the wrapper modules under bench/peer/go/ (Flux's own Go
# modules at pinned versions, fetched through the Go module proxy, never vendored) into the same cache as
# tools/cluster/build-binaries.sh, through the same helpers (tools/cluster/go-cache.sh): keyed by tool, version and a
# hash of the module files, one build at a time (a flock of its own).
# Opt-in: only the peer benchmark needs it, so CI and `./dev test` never pay for it. The last line on stdout is a PATH
# fragment holding both binaries.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../tools/cluster/go-cache.sh"
capstan_require_go build-flux "Flux's controllers"

# tool | module whose version names the build | package to build
specs=(
  "source-controller|github.com/fluxcd/source-controller|github.com/fluxcd/source-controller"
  "kustomize-controller|github.com/fluxcd/kustomize-controller|github.com/fluxcd/kustomize-controller"
)

# Its own lock, not build-binaries.sh's: a Flux build takes many minutes and must not hold up the tests' binaries.
capstan_lock 9 .lock-flux

path_parts=()
for spec in "${specs[@]}"; do
  IFS='|' read -r tool mod pkg <<<"$spec"
  dir="$here/go/$tool"
  version=$(capstan_module_version build-flux "$dir" "$mod")
  out=$(capstan_cache_dir "flux-$tool" "$version" "$dir" "$pkg")
  path_parts+=("$out")
  capstan_built "$out" && continue
  echo "build-flux: building $tool $version (cold builds take many minutes)" >&2
  tmp=$(capstan_build_dir "flux-$tool")
  t0=$(date +%s)
  (cd "$dir" && nice go build -trimpath -ldflags "-s -w" -o "$tmp/$tool" "$pkg")
  capstan_install "$tmp" "$out"
  echo "build-flux: built $tool $version in $(( $(date +%s) - t0 ))s" >&2
done
(IFS=:; echo "${path_parts[*]}")
