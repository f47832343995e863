// Installs the CRDs on a test cluster. Many test files call this at once against one shared control plane, so it
// only ever applies (server-side, same field manager, so repeats are no-ops) and never deletes.
import {
  ApiextensionsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { loadCrds } from "../crds.js";

export interface EnsureCrdsOptions {
  /** How long to wait for each CRD to become Established. */
  timeoutMs?: number;
}

const fieldManager = "capstan-api-testing";

/** Server-side applies every CRD of @capstan/api and resolves once each is Established. Idempotent. */
export async function ensureCrds(kubeconfigPath: string, options: EnsureCrdsOptions = {}): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const crds = loadCrds();
  await Promise.all(crds.map((crd) => applyCrd(api, crd)));
  await Promise.all(crds.map((crd) => waitEstablished(api, crdName(crd), options.timeoutMs ?? 60_000)));
}

function crdName(crd: V1CustomResourceDefinition): string {
  const name = crd.metadata?.name;
  if (!name) throw new Error("ensureCrds: a CRD file has no metadata.name");
  return name;
}

async function applyCrd(api: ApiextensionsV1Api, crd: V1CustomResourceDefinition): Promise<void> {
  const name = crdName(crd);
  for (let attempt = 1; ; attempt++) {
    try {
      await api.patchCustomResourceDefinition(
        { name, body: crd, fieldManager, force: true },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      );
      return;
    } catch (err) {
      // Concurrent appliers can race on resourceVersion; the apiserver may also be briefly busy.
      if (attempt >= 5 || !isRetryable(err)) throw new Error(`ensureCrds: apply ${name}`, { cause: err });
      await sleep(200 * attempt);
    }
  }
}

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 409 || code === 429 || (typeof code === "number" && code >= 500);
}

async function waitEstablished(api: ApiextensionsV1Api, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "not read yet";
  while (Date.now() < deadline) {
    try {
      const got = await api.readCustomResourceDefinition({ name });
      const established = got.status?.conditions?.find((c) => c.type === "Established");
      if (established?.status === "True") return;
      last = established ? `${established.reason ?? ""}: ${established.message ?? ""}` : "no Established condition";
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`ensureCrds: ${name} not Established after ${timeoutMs}ms (${last})`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
