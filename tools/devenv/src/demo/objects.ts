// The objects that point Capstan at the demo repository (examples/demo-repo): the GitRepository `demo`, a
// Kustomization for the namespaces, one per app overlay and one for the HelmReleases under releases/. The demo's
// supervisor applies them; the demo's e2e test applies the same ones to the same repository content.
import { gitRepositoryType, kustomizationType } from "@capstan/api";
import type { KubeObject } from "@capstan/runtime";
import { apps, environments } from "./state.js";

export interface DemoObjectsOptions {
  namespace: string;
  gitUrl: string;
  /** A Secret in `namespace` with the git server's basic-auth credentials (the demo's server has none). */
  gitSecret?: string;
}

export function demoObjects(options: DemoObjectsOptions): KubeObject[] {
  const { namespace } = options;
  const gitRepository: KubeObject = {
    apiVersion: gitRepositoryType.apiVersion,
    kind: gitRepositoryType.kind,
    metadata: { name: "demo", namespace },
    spec: {
      url: options.gitUrl,
      interval: "1m",
      ref: { branch: "main" },
      ...(options.gitSecret ? { secretRef: { name: options.gitSecret } } : {}),
    },
  };
  const ks = (name: string, path: string, dependsOn: string[], extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: kustomizationType.apiVersion,
    kind: kustomizationType.kind,
    metadata: { name, namespace },
    spec: {
      interval: "5m",
      path,
      prune: true,
      wait: true,
      timeout: "2m",
      sourceRef: { kind: "GitRepository", name: "demo" },
      ...(dependsOn.length ? { dependsOn: dependsOn.map((n) => ({ name: n })) } : {}),
      ...extra,
    },
  });
  return [
    gitRepository,
    ks("namespaces", "./infrastructure/namespaces", []),
    ...apps.flatMap((app) =>
      environments.map((env) => ks(`${app}-${env}`, `./apps/${app}/overlays/${env}`, ["namespaces"])),
    ),
    // The HelmReleases carry no namespace in Git: they land beside the GitRepository their charts come from, and each
    // releases into its environment's namespace (spec.targetNamespace). `wait` holds this Kustomization until both
    // HelmReleases are Ready (kstatus reads their Ready condition).
    ks("releases", "./releases", ["namespaces"], { targetNamespace: namespace }),
  ];
}

/** Chart values the demo starts the controllers with: they apply and release with their own rights (no tenants). */
export const demoChartValues = [
  "kustomize-controller.multitenancy.enabled=false",
  "helm-controller.multitenancy.enabled=false",
];
