#!/usr/bin/env bash
# Builds the pinned control-plane and tool binaries from the Go modules under e2e/cluster/go/ into a cache outside the
# checkout, keyed by tool, version and a hash of the module files, so a second run (or a fresh clone on the same
# machine) builds nothing. The last line printed on stdout is a PATH fragment holding every binary.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${CAPSTAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}/bin
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin "$HOME/go/bin"; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
fi
command -v go >/dev/null 2>&1 || { echo "build-binaries: Go is required (go 1.26+) to build the control plane" >&2; exit 1; }

# tool | module whose version names the build | packages to build | ldflags (VERSION is replaced)
specs=(
  "kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl|K8S"
  "etcd|go.etcd.io/etcd/server/v3|go.etcd.io/etcd/server/v3:etcd|"
  "kwok|sigs.k8s.io/kwok|sigs.k8s.io/kwok/cmd/kwok|-X sigs.k8s.io/kwok/pkg/consts.Version=VERSION"
  "kustomize|sigs.k8s.io/kustomize/kustomize/v5|sigs.k8s.io/kustomize/kustomize/v5:kustomize|-X sigs.k8s.io/kustomize/api/provenance.version=VERSION"
  "helm|helm.sh/helm/v4|helm.sh/helm/v4/cmd/helm|-X helm.sh/helm/v4/internal/version.version=VERSION"
)

k8s_ldflags() {
  local v=$1 minor
  minor=$(echo "$v" | cut -d. -f2)
  local p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean -X %s.buildDate=1970-01-01T00:00:00Z ' \
      "$p" "$v" "$p" "$p" "$minor" "$p" "$p"
  done
}

mkdir -p "$cache"
# One build at a time on a machine: a second caller waits, then finds everything built.
exec 9>"$cache/.lock"
flock 9

path_parts=()
built_any=0
start=$(date +%s)
for spec in "${specs[@]}"; do
  IFS='|' read -r tool mod pkgs ldflags <<<"$spec"
  dir="$here/go/$tool"
  version=$(awk -v m="$mod" '$1=="require" && $2==m {print $3; exit} $1==m {print $2; exit}' "$dir/go.mod")
  [ -n "$version" ] || { echo "build-binaries: no version of $mod in $dir/go.mod" >&2; exit 1; }
  if [ "$ldflags" = K8S ]; then ldflags=$(k8s_ldflags "$version"); else ldflags=${ldflags//VERSION/$version}; fi
  hash=$(cat "$dir/go.mod" "$dir/go.sum" <(echo "$pkgs $ldflags") | sha256sum | cut -c1-12)
  out="$cache/$tool-$version-$hash"
  path_parts+=("$out")
  [ -f "$out/.complete" ] && continue
  built_any=1
  echo "build-binaries: building $tool $version (cold builds take minutes)" >&2
  tmp="$cache/.tmp-$tool-$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  t0=$(date +%s)
  for pkg in $pkgs; do
    name=${pkg##*:}; [ "$name" = "$pkg" ] && name=${pkg##*/}; pkg=${pkg%%:*}
    (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/$name" "$pkg")
  done
  touch "$tmp/.complete"
  rm -rf "$out" && mv "$tmp" "$out"
  echo "build-binaries: built $tool $version in $(( $(date +%s) - t0 ))s" >&2
done
if [ "$built_any" = 1 ]; then echo "build-binaries: cold Go build took $(( $(date +%s) - start ))s" >&2; fi
(IFS=:; echo "${path_parts[*]}")
