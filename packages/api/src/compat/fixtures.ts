// Objects after the examples in Flux's API reference. Together the fixtures of a kind set every spec field at least
// once (statusFixtures does the same for status), so the compatibility tests exercise the whole schema.
import type {
  Alert,
  GitRepository,
  Kustomization,
  OCIRepository,
  Provider,
  Receiver,
} from "../generated/models.gen.js";
import {
  alertType,
  gitRepositoryType,
  kustomizationType,
  ociRepositoryType,
  providerType,
  receiverType,
} from "../kinds.js";

const sha = "6ab3ae9da0ad19b1c6c7f3f5e2ff4f5e8a3d5b0c";

export function gitRepositories(): GitRepository[] {
  const base = { apiVersion: gitRepositoryType.apiVersion, kind: gitRepositoryType.kind } as const;
  return [
    {
      ...base,
      metadata: { name: "podinfo" },
      spec: { interval: "5m0s", url: "https://github.com/stefanprodan/podinfo" },
    },
    {
      ...base,
      metadata: { name: "podinfo-everything" },
      spec: {
        url: "ssh://git@github.com/stefanprodan/podinfo",
        secretRef: { name: "ssh-credentials" },
        provider: "generic",
        interval: "1h30m",
        timeout: "1m30s",
        ref: { branch: "master", tag: "6.0.0", semver: ">=6.0.0 <7.0.0", name: "refs/heads/master", commit: sha },
        verify: { mode: "TagAndHEAD", secretRef: { name: "pgp-public-keys" } },
        proxySecretRef: { name: "http-proxy" },
        ignore: "/*\n!/deploy\n",
        suspend: true,
        recurseSubmodules: true,
        include: [{ repository: { name: "podinfo" }, fromPath: "kustomize", toPath: "base/podinfo" }],
        sparseCheckout: ["kustomize/", "charts/"],
      },
    },
    {
      ...base,
      metadata: { name: "azure-devops" },
      spec: {
        url: "https://dev.azure.com/org/project/_git/repo",
        interval: "10m",
        provider: "azure",
        serviceAccountName: "azure-devops-reader",
        ref: { name: "refs/pull/420/head" },
        verify: { mode: "head", secretRef: { name: "keys" } },
      },
    },
  ];
}

export function ociRepositories(): OCIRepository[] {
  const base = { apiVersion: ociRepositoryType.apiVersion, kind: ociRepositoryType.kind } as const;
  return [
    {
      ...base,
      metadata: { name: "podinfo-oci" },
      spec: { interval: "5m0s", url: "oci://ghcr.io/stefanprodan/manifests/podinfo", ref: { tag: "latest" } },
    },
    {
      ...base,
      metadata: { name: "podinfo-oci-everything" },
      spec: {
        url: "oci://ghcr.io/stefanprodan/manifests/podinfo",
        ref: {
          digest: "sha256:2f3b8f3b3b0e6b4e1d1f0c5a6e6c4a8f2d0a7b9c1e3f5a7b9c1d3e5f7a9b1c3d",
          semver: ">=6.0.0 <7.0.0",
          semverFilter: ".*-rc.*",
          tag: "6.0.0",
        },
        layerSelector: { mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", operation: "copy" },
        provider: "generic",
        secretRef: { name: "ghcr-auth" },
        verify: {
          provider: "cosign",
          secretRef: { name: "cosign-pub" },
          trustedRootSecretRef: { name: "sigstore-root" },
          matchOIDCIdentity: [
            {
              issuer: "^https://token.actions.githubusercontent.com$",
              subject: "^https://github.com/stefanprodan/podinfo.*$",
            },
          ],
        },
        serviceAccountName: "puller",
        certSecretRef: { name: "registry-ca" },
        proxySecretRef: { name: "http-proxy" },
        interval: "1h",
        timeout: "2m",
        ignore: "/*\n!/deploy\n",
        insecure: true,
        suspend: true,
      },
    },
  ];
}

export function kustomizations(): Kustomization[] {
  const base = { apiVersion: kustomizationType.apiVersion, kind: kustomizationType.kind } as const;
  return [
    {
      ...base,
      metadata: { name: "podinfo" },
      spec: { interval: "10m", prune: true, sourceRef: { kind: "GitRepository", name: "podinfo" } },
    },
    {
      ...base,
      metadata: { name: "podinfo-everything" },
      spec: {
        commonMetadata: {
          annotations: { "team.example.com/owner": "apps" },
          labels: { "app.kubernetes.io/part-of": "podinfo" },
        },
        dependsOn: [
          { name: "infra" },
          { name: "crds", namespace: "flux-system", readyExpr: "dep.status.ready == true" },
        ],
        decryption: { provider: "sops", serviceAccountName: "sops-kms", secretRef: { name: "sops-age" } },
        interval: "1h",
        retryInterval: "2m30s",
        kubeConfig: { secretRef: { name: "prod-kubeconfig", key: "value.yaml" } },
        path: "./kustomize",
        postBuild: {
          substitute: { cluster_env: "prod", cluster_region: "eu-central-1" },
          substituteFrom: [
            { kind: "ConfigMap", name: "cluster-vars" },
            { kind: "Secret", name: "cluster-secret-vars", optional: true },
          ],
          substituteStrategy: "WithVariables",
        },
        prune: false,
        deletionPolicy: "WaitForTermination",
        healthChecks: [{ apiVersion: "apps/v1", kind: "Deployment", name: "podinfo", namespace: "apps" }],
        namePrefix: "prod-",
        nameSuffix: "-eu",
        patches: [
          {
            patch: "- op: replace\n  path: /spec/replicas\n  value: 3\n",
            target: {
              group: "apps",
              version: "v1",
              kind: "Deployment",
              name: "podinfo",
              namespace: "apps",
              labelSelector: "app=podinfo",
              annotationSelector: "example.com/patch=true",
            },
          },
        ],
        images: [
          {
            name: "ghcr.io/stefanprodan/podinfo",
            newName: "registry.example.com/podinfo",
            newTag: "6.5.0",
            digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
          },
        ],
        serviceAccountName: "apps-reconciler",
        sourceRef: {
          apiVersion: "source.toolkit.fluxcd.io/v1",
          kind: "GitRepository",
          name: "podinfo",
          namespace: "flux-system",
        },
        suspend: false,
        targetNamespace: "apps",
        timeout: "3m",
        force: true,
        wait: true,
        components: ["../components/ingress", "../components/tls"],
        ignoreMissingComponents: true,
        healthCheckExprs: [
          {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            current: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
            inProgress: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'Unknown')",
            failed: "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')",
          },
        ],
        ignore: [
          { paths: ["/spec/replicas"], target: { kind: "Deployment" } },
          { paths: ["/metadata/annotations/ignored"] },
        ],
        buildMetadata: ["originAnnotations", "transformerAnnotations"],
      },
    },
    {
      // Flux's newer fields on their own: substitution without variables, build metadata, a group-wide health check.
      ...base,
      metadata: { name: "defaults-substituted" },
      spec: {
        interval: "10m",
        prune: true,
        sourceRef: { kind: "GitRepository", name: "podinfo" },
        postBuild: { substituteStrategy: "Always" },
        buildMetadata: ["originAnnotations"],
        wait: true,
        healthCheckExprs: [{ apiVersion: "cert-manager.io/v1", current: "status.ready == true" }],
      },
    },
    {
      ...base,
      metadata: { name: "remote-cloud" },
      spec: {
        interval: "5m",
        prune: true,
        sourceRef: { kind: "OCIRepository", name: "manifests" },
        kubeConfig: { configMapRef: { name: "eks-prod" } },
      },
    },
  ];
}

export function providers(): Provider[] {
  const base = { apiVersion: providerType.apiVersion, kind: providerType.kind } as const;
  return [
    {
      ...base,
      metadata: { name: "slack" },
      spec: {
        type: "slack",
        channel: "general",
        address: "https://slack.com/api/chat.postMessage",
        secretRef: { name: "slack-token" },
      },
    },
    {
      ...base,
      metadata: { name: "github-status" },
      spec: {
        type: "github",
        interval: "10m",
        channel: "ops",
        username: "flux",
        address: "https://github.com/stefanprodan/podinfo",
        timeout: "30s",
        proxy: "http://proxy.example.com:8080",
        proxySecretRef: { name: "proxy" },
        secretRef: { name: "github-token" },
        serviceAccountName: "github-app",
        certSecretRef: { name: "ca" },
        suspend: false,
        commitStatusExpr: "(event.involvedObject.kind + '/' + event.involvedObject.name).lowerAscii()",
      },
    },
    {
      ...base,
      metadata: { name: "gitea-pr-comment" },
      spec: {
        type: "giteapullrequestcomment",
        address: "https://gitea.example.com/org/repo",
        secretRef: { name: "gitea-token" },
      },
    },
    {
      ...base,
      metadata: { name: "gitlab-mr-comment" },
      spec: {
        type: "gitlabmergerequestcomment",
        address: "https://gitlab.com/org/repo",
        secretRef: { name: "gitlab-token" },
      },
    },
    {
      // Capstan: smtp is not a Flux provider type.
      ...base,
      metadata: { name: "smtp" },
      spec: { type: "smtp", address: "smtp://mail.example.com:587", channel: "ops@example.com" },
    },
  ];
}

export function alerts(): Alert[] {
  const base = { apiVersion: alertType.apiVersion, kind: alertType.kind } as const;
  return [
    {
      ...base,
      metadata: { name: "on-call" },
      spec: { providerRef: { name: "slack" }, eventSources: [{ kind: "Kustomization", name: "*" }] },
    },
    {
      ...base,
      metadata: { name: "everything" },
      spec: {
        providerRef: { name: "slack" },
        eventSeverity: "error",
        eventSources: [
          { kind: "GitRepository", name: "podinfo", namespace: "flux-system" },
          {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            name: "*",
            namespace: "*",
            matchLabels: { team: "apps" },
          },
        ],
        inclusionList: [".*succeeded.*"],
        eventMetadata: { env: "prod", cluster: "eu-1" },
        exclusionList: ["^Dependencies.*"],
        summary: "Production cluster eu-1",
        suspend: false,
      },
    },
  ];
}

export function receivers(): Receiver[] {
  const base = { apiVersion: receiverType.apiVersion, kind: receiverType.kind } as const;
  return [
    {
      ...base,
      metadata: { name: "github" },
      spec: {
        type: "github",
        secretRef: { name: "webhook-token" },
        resources: [{ kind: "GitRepository", name: "podinfo" }],
      },
    },
    {
      ...base,
      metadata: { name: "everything" },
      spec: {
        type: "generic-hmac",
        interval: "1h",
        events: ["push", "ping"],
        resources: [
          {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            name: "*",
            namespace: "flux-system",
            matchLabels: { repo: "apps" },
            filter: "req.repository.name == res.metadata.name",
          },
        ],
        resourceFilter: "has(res.metadata.annotations) && res.metadata.annotations['team'] == 'apps'",
        secretRef: { name: "webhook-token" },
        suspend: true,
      },
    },
    {
      ...base,
      metadata: { name: "actions-oidc" },
      spec: {
        type: "generic-oidc",
        resources: [{ kind: "Kustomization", name: "apps" }],
        oidcProviders: [
          {
            issuerURL: "https://token.actions.githubusercontent.com",
            audience: "capstan",
            variables: [{ name: "owner", expression: "claims.repository_owner" }],
            validations: [{ expression: "vars.owner == 'example'", message: "only the example org may trigger" }],
          },
        ],
      },
    },
  ];
}

const condition = {
  type: "Ready",
  status: "True",
  observedGeneration: 1,
  lastTransitionTime: "2026-01-02T03:04:05Z",
  reason: "Succeeded",
  message: "stored artifact for revision 'master@sha1:6ab3ae9d'",
} as const;

const artifact = {
  path: "gitrepository/flux-system/podinfo/6ab3ae9d.tar.gz",
  url: "http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/podinfo/6ab3ae9d.tar.gz",
  revision: `master@sha1:${sha}`,
  digest: "sha256:2f3b8f3b3b0e6b4e1d1f0c5a6e6c4a8f2d0a7b9c1e3f5a7b9c1d3e5f7a9b1c3d",
  lastUpdateTime: "2026-01-02T03:04:05Z",
  size: 123456,
  metadata: { "org.opencontainers.image.revision": sha },
};

/** A full status for each kind with a status subresource, as its controller would write it. */
export const statusFixtures = {
  GitRepository: {
    observedGeneration: 1,
    conditions: [condition],
    artifact,
    includedArtifacts: [artifact],
    observedIgnore: "/*\n!/deploy\n",
    observedRecurseSubmodules: true,
    observedInclude: [{ repository: { name: "podinfo" }, fromPath: "kustomize", toPath: "base" }],
    observedSparseCheckout: ["kustomize/"],
    sourceVerificationMode: "HEAD",
    lastHandledReconcileAt: "2026-01-02T03:04:05.123456Z",
  },
  OCIRepository: {
    observedGeneration: 1,
    conditions: [{ ...condition, message: "stored artifact for digest '6.0.0@sha256:2f3b8f3b'" }],
    url: "http://source-controller.flux-system.svc.cluster.local./ocirepository/flux-system/podinfo/2f3b8f3b.tar.gz",
    artifact: {
      ...artifact,
      revision: "6.0.0@sha256:2f3b8f3b3b0e6b4e1d1f0c5a6e6c4a8f2d0a7b9c1e3f5a7b9c1d3e5f7a9b1c3d",
    },
    observedIgnore: "/*\n!/deploy\n",
    observedLayerSelector: { mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", operation: "extract" },
    lastHandledReconcileAt: "2026-01-02T03:04:05Z",
  },
  Kustomization: {
    lastHandledReconcileAt: "2026-01-02T03:04:05Z",
    observedGeneration: 1,
    conditions: [{ ...condition, reason: "ReconciliationSucceeded", message: `Applied revision: master@sha1:${sha}` }],
    lastAppliedRevision: `master@sha1:${sha}`,
    lastAppliedOriginRevision: `v1.0.0@sha1:${sha}`,
    lastAttemptedRevision: `master@sha1:${sha}`,
    inventory: {
      entries: [
        { id: "apps_podinfo_apps_Deployment", v: "v1" },
        { id: "_apps__Namespace", v: "v1" },
      ],
    },
    history: [
      {
        digest: "sha256:2f3b8f3b3b0e6b4e1d1f0c5a6e6c4a8f2d0a7b9c1e3f5a7b9c1d3e5f7a9b1c3d",
        firstReconciled: "2026-01-02T03:04:05Z",
        lastReconciled: "2026-01-02T04:04:05Z",
        lastReconciledDuration: "1.234s",
        lastReconciledStatus: "ReconciliationSucceeded",
        totalReconciliations: 2,
        metadata: { revision: `master@sha1:${sha}` },
      },
    ],
  },
  Receiver: {
    lastHandledReconcileAt: "2026-01-02T03:04:05Z",
    conditions: [{ ...condition, message: "Receiver initialized for path: /hook/abc" }],
    webhookPath: "/hook/bed6d00b5555b1603e1f59b94d7fdbca58089cb5663633fb83f2815dc626d92b",
    observedGeneration: 1,
  },
} as const;
