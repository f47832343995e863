// The opening the compat int tests share: Capstan's CRDs on the test control plane, a fresh namespace and a client
// for Flux objects in it, made before the file's tests and the namespace removed after them.
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
// The global setup declares what inject() provides.
import type {} from "@capstan/cluster/vitest-setup";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, inject } from "vitest";
import { ensureCrds } from "../testing/index.js";
import { objectsClient } from "./client.js";

export interface CompatScope {
  readonly kubeconfig: string;
  readonly kc: KubeConfig;
  /** Set by beforeAll: read it inside tests and hooks, not at collection time. */
  readonly ns: TestNamespace;
  /** Set by beforeAll, like ns. */
  readonly objects: ReturnType<typeof objectsClient>;
}

/** Call at the top of a describe: `prefix` starts the namespace's name. */
export function useCompatScope(prefix: string): CompatScope {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const scope: { kubeconfig: string; kc: KubeConfig; ns?: TestNamespace; objects?: ReturnType<typeof objectsClient> } =
    { kubeconfig, kc: loadKubeConfig(kubeconfig) };
  beforeAll(async () => {
    await ensureCrds(kubeconfig);
    scope.ns = await createTestNamespace(scope.kc, prefix);
    scope.objects = objectsClient(scope.kc, scope.ns.name);
  });
  afterAll(async () => {
    await scope.ns?.delete();
  });
  return scope as CompatScope;
}
