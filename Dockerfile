# syntax=docker/dockerfile:1
# One file, one target per controller:
#   docker build --target source-controller       -t capstan/source-controller .
#   docker build --target kustomize-controller    -t capstan/kustomize-controller .
#   docker build --target notification-controller -t capstan/notification-controller .
#   docker build --target helm-controller         -t capstan/helm-controller .
#   docker build --target dashboard               -t capstan/dashboard .
ARG NODE_IMAGE=node:24-bookworm-slim

# The pinned kustomize, built from the same Go module the tests use (tools/cluster/go/kustomize).
FROM golang:1.26-bookworm AS kustomize
WORKDIR /src
COPY tools/cluster/go/kustomize/ ./
RUN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=v5.8.2" \
      -o /out/kustomize sigs.k8s.io/kustomize/kustomize/v5

# The pinned sops (spec.decryption), from the same Go module the tests use (tools/cluster/go/sops).
FROM golang:1.26-bookworm AS sops
WORKDIR /src
COPY tools/cluster/go/sops/ ./
RUN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o /out/sops github.com/getsops/sops/v3/cmd/sops

# The pinned helm v4 (helm-controller's engine), from the same Go module the tests use (tools/cluster/go/helm).
FROM golang:1.26-bookworm AS helm
WORKDIR /src
COPY tools/cluster/go/helm/ ./
RUN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$(go list -m -f '{{.Version}}' helm.sh/helm/v4)" \
      -o /out/helm helm.sh/helm/v4/cmd/helm

FROM ${NODE_IMAGE} AS build
RUN npm install -g pnpm@10.34.9
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm turbo run build --filter='./packages/*' \
 && for c in source kustomize notification helm; do \
      pnpm --filter "@capstan/$c-controller" deploy --legacy --prod "/out/$c-controller"; \
    done \
 && pnpm --filter @capstan/dashboard deploy --legacy --prod /out/dashboard

FROM ${NODE_IMAGE} AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The charts run with a read-only root filesystem: everything writable lives in /tmp (and /data for artifacts).
ENV NODE_ENV=production HOME=/tmp TMPDIR=/tmp
WORKDIR /app

FROM base AS source-controller
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client gnupg \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/source-controller /app
USER 65532:65532
# V8 flags NODE_OPTIONS does not allow, so they are here; bench/peer starts the controller with these node flags:
# - --optimize-for-size (smaller young generation, slower heap growth): peak RSS 134 -> 112 MiB at 1,000
#   GitRepositories for the same CPU (bench/peer/README.md, session 11);
# - --no-opt --no-maglev (bytecode and the baseline compiler only): 112/113 -> 101/102 MiB at 1,000 GitRepositories
#   (session 12). The optimizing compilers' code and zones cost memory and bought no measurable time: the work is
#   git's child processes, zlib and the API, not hot JavaScript.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--optimize-for-size", "--no-opt", "--no-maglev", "/app/dist/main.js"]

FROM base AS kustomize-controller
# gnupg: sops's OpenPGP decryption (spec.decryption with *.asc keys) runs gpg.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gnupg \
 && rm -rf /var/lib/apt/lists/*
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
COPY --from=sops /out/sops /usr/local/bin/sops
COPY --from=build /out/kustomize-controller /app
USER 65532:65532
# --optimize-for-size, as source-controller's: peak RSS 163 -> 144 MiB at 1,000 Kustomizations (bench/peer/README.md,
# session 11). bench/peer starts the controller with these node flags.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--optimize-for-size", "/app/dist/main.js"]

FROM base AS notification-controller
COPY --from=build /out/notification-controller /app
USER 65532:65532
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/main.js"]

FROM base AS helm-controller
COPY --from=helm /out/helm /usr/local/bin/helm
# spec.postRenderers run the pinned kustomize (through a helm post-renderer plugin the controller writes per pass).
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
COPY --from=build /out/helm-controller /app
USER 65532:65532
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/main.js"]

# The dashboard: the server, and the browser app Vite built into dist/app (served by the server). A 1 MiB young
# generation (V8's default grows to 16 MiB per semi-space): the server's garbage is short-lived summaries and JSON, and
# this keeps about 30 MiB of RSS off a pod with thousands of objects (bench/README.md, dashboard).
FROM base AS dashboard
COPY --from=build /out/dashboard /app
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=1", "/app/dist/server/main.js"]
