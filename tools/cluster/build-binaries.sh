#!/usr/bin/env bash
# Builds the pinned control-plane and tool binaries from the Go modules under tools/cluster/go/ into a cache outside the
# checkout, keyed by tool, version and a hash of the module files, so a second run (or a fresh clone on the same
# machine) builds nothing. The last line printed on stdout is a PATH fragment holding every binary.
#
# Optional tools are built only when named: `build-binaries.sh flux` also builds the flux CLI (a long cold build, used
# by the optional flux CLI test); their directories follow the others on the last line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/go-cache.sh"
capstan_require_go build-binaries "the control plane"

# tool | module whose version names the build | packages to build | ldflags (VERSION is replaced)
specs=(
  "kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl|K8S"
  "etcd|go.etcd.io/etcd/server/v3|go.etcd.io/etcd/server/v3:etcd|"
  "kwok|sigs.k8s.io/kwok|sigs.k8s.io/kwok/cmd/kwok|-X sigs.k8s.io/kwok/pkg/consts.Version=VERSION"
  "kustomize|sigs.k8s.io/kustomize/kustomize/v5|sigs.k8s.io/kustomize/kustomize/v5:kustomize|-X sigs.k8s.io/kustomize/api/provenance.version=VERSION"
  "helm|helm.sh/helm/v4|helm.sh/helm/v4/cmd/helm|-X helm.sh/helm/v4/internal/version.version=VERSION"
  # SOPS and age: what users and the decryption tests encrypt with (README, "Secrets").
  "sops|github.com/getsops/sops/v3|github.com/getsops/sops/v3/cmd/sops|"
  "age|filippo.io/age|filippo.io/age/cmd/age-keygen filippo.io/age/cmd/age|"
  # The CNCF distribution registry and oras: the OCI registry the OCIRepository tests push to, and how they push.
  "registry|github.com/distribution/distribution/v3|github.com/distribution/distribution/v3/cmd/registry|-X github.com/distribution/distribution/v3/version.version=VERSION"
  "oras|oras.land/oras|oras.land/oras/cmd/oras|-X oras.land/oras/internal/version.BuildMetadata=capstan"
)
# Built only when named on the command line. flux's Makefile sets main.VERSION without the "v" (SEMVER).
optional_specs=(
  "flux|github.com/fluxcd/flux2/v2|./cmd/flux|-X main.VERSION=SEMVER"
  # The Sealed Secrets end-to-end test (e2e/src/sealed-secrets.e2e.test.ts): its controller and kubeseal. v0.27.1 is the
  # newest the checksum database verifies here (v0.40.0 moved to github.com/bitnami/sealed-secrets, which it does not know).
  "sealed-secrets|github.com/bitnami-labs/sealed-secrets|github.com/bitnami-labs/sealed-secrets/cmd/controller:sealed-secrets-controller github.com/bitnami-labs/sealed-secrets/cmd/kubeseal|-X main.VERSION=VERSION"
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

# One build at a time on a machine: a second caller waits, then finds everything built.
capstan_lock 9 .lock

path_parts=()
built_any=0
start=$(date +%s)

build_spec() {
  local spec=$1 tool mod pkgs ldflags dir version out tmp t0 pkg name src
  IFS='|' read -r tool mod pkgs ldflags <<<"$spec"
  dir="$here/go/$tool"
  version=$(capstan_module_version build-binaries "$dir" "$mod")
  if [ "$ldflags" = K8S ]; then ldflags=$(k8s_ldflags "$version"); else
    # Placeholders stand after "=" only: flux's variable is itself named VERSION.
    ldflags=${ldflags//=VERSION/=$version}; ldflags=${ldflags//=SEMVER/=${version#v}}; fi
  out=$(capstan_cache_dir "$tool" "$version" "$dir" "$pkgs $ldflags")
  path_parts+=("$out")
  capstan_built "$out" && return 0
  # CAPSTAN_ONLY_CACHED=1: report where an optional tool would be, build nothing (tests that only use it if built).
  if [ "${CAPSTAN_ONLY_CACHED:-}" = 1 ] && [ "$tool" = flux -o "$tool" = sealed-secrets ]; then return 0; fi
  built_any=1
  echo "build-binaries: building $tool $version (cold builds take minutes)" >&2
  tmp=$(capstan_build_dir "$tool")
  t0=$(date +%s)
  if [ "$tool" = flux ]; then
    # flux embeds the manifests of `flux install` (cmd/flux/manifests/*.yaml), which its release build generates from
    # GitHub downloads and the module does not contain. The commands the tests run (check, version, logs) never read
    # them, so the build uses a copy of the module with one placeholder file there; `flux install` of this binary
    # has nothing to install.
    (cd "$dir" && go mod download "$mod")
    src=$(cd "$dir" && go list -m -f '{{.Dir}}' "$mod")
    cp -r "$src" "$tmp/src" && chmod -R u+w "$tmp/src"
    mkdir -p "$tmp/src/cmd/flux/manifests"
    echo "# not embedded in this build: see tools/cluster/build-binaries.sh" >"$tmp/src/cmd/flux/manifests/none.yaml"
    (cd "$tmp/src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/flux" "$pkgs")
    rm -rf "$tmp/src"
  else
    for pkg in $pkgs; do
      name=${pkg##*:}; [ "$name" = "$pkg" ] && name=${pkg##*/}; pkg=${pkg%%:*}
      (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/$name" "$pkg")
    done
  fi
  if [ "$tool" = sealed-secrets ]; then
    # The SealedSecret CRD of the same release, for the test that installs it (the controller does not create it).
    src=$(cd "$dir" && go list -m -f '{{.Dir}}' "$mod")
    cp "$src/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml" "$tmp/sealedsecrets-crd.yaml"
  fi
  capstan_install "$tmp" "$out"
  echo "build-binaries: built $tool $version in $(( $(date +%s) - t0 ))s" >&2
}

for spec in "${specs[@]}"; do build_spec "$spec"; done
# Optional tools build under their own lock, so a long cold build never holds up the control plane's binaries.
flock -u 9
for want in "$@"; do
  found=0
  for spec in "${optional_specs[@]}"; do
    [ "${spec%%|*}" = "$want" ] || continue
    found=1
    capstan_lock 8 ".lock-$want"
    build_spec "$spec"
    flock -u 8
  done
  [ "$found" = 1 ] || { echo "build-binaries: no optional tool named $want" >&2; exit 1; }
done
if [ "$built_any" = 1 ]; then echo "build-binaries: cold Go build took $(( $(date +%s) - start ))s" >&2; fi
(IFS=:; echo "${path_parts[*]}")
