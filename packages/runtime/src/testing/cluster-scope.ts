// The opening the runtime int tests share: a KubeClient on the test control plane and a fresh namespace, made before
// the file's tests and removed after them.
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
// The global setup declares what inject() provides.
import type {} from "@capstan/cluster/vitest-setup";
import { afterAll, beforeAll, inject } from "vitest";
import { KubeClient, type KubeClientOptions } from "../client/kube-client.js";

export interface ClusterScope {
  readonly kubeconfigPath: string;
  /** Set by beforeAll: read it inside tests and hooks, not at collection time. */
  readonly client: KubeClient;
  /** Set by beforeAll, like client. */
  readonly ns: TestNamespace;
}

/** Call at the top of a describe (or file): `prefix` starts the namespace's name. */
export function useClusterScope(prefix: string, options: Omit<KubeClientOptions, "kubeconfigPath"> = {}): ClusterScope {
  const kubeconfigPath = testKubeconfigPath(inject("capstanKubeconfig"));
  const scope: { kubeconfigPath: string; client?: KubeClient; ns?: TestNamespace } = { kubeconfigPath };
  beforeAll(async () => {
    scope.client = new KubeClient({ ...options, kubeconfigPath });
    scope.ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), prefix);
  });
  afterAll(async () => {
    await scope.ns?.delete();
    scope.client?.close();
  });
  return scope as ClusterScope;
}
