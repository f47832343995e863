// One integration scenario: a fresh namespace and a harness controller watching only it, removed when the test ends.
import { ensureBinaries } from "@capstan/cluster";
import { createTestNamespace, eventually, loadKubeConfig, type TestNamespace } from "@capstan/cluster/testing";
import type { KubeObject } from "@capstan/runtime";
import { onTestFinished } from "vitest";
import type { KustomizationObject } from "../kustomization/types.js";
import { ensureCrds, Harness, type HarnessOptions, readyOf } from "./harness.js";

export interface Scenario {
  ns: TestNamespace;
  h: Harness;
}

/** Starts a controller on a new namespace for the current test; both go away when the test finishes. */
export async function scenario(
  kubeconfigPath: string,
  prefix: string,
  o: Pick<HarnessOptions, "flags" | "options"> = {},
): Promise<Scenario> {
  await ensureCrds(kubeconfigPath);
  const ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), prefix);
  const h = new Harness({
    kubeconfigPath,
    namespace: ns.name,
    kustomizeBinary: (await ensureBinaries()).bin.kustomize,
    ...o,
  });
  onTestFinished(async () => {
    await h.stop();
    await ns.delete();
  });
  await h.start();
  return { ns, h };
}

export const configMap = (name: string, value: string, extra = "") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n  value: "${value}"\n`;

/** Polls the Kustomization until pred holds, saying what was last seen when it times out. */
export async function untilKustomization(
  h: Harness,
  name: string,
  what: string,
  pred: (k: KustomizationObject) => boolean,
  timeoutMs = 60_000,
): Promise<KustomizationObject> {
  let last: KustomizationObject | undefined;
  return eventually(
    async () => {
      last = await h.getKustomization(name);
      return !!last && pred(last) && last;
    },
    { what: () => `${name}: ${what} (last Ready: ${JSON.stringify(readyOf(last))})`, timeoutMs },
  );
}

/** Ready=False with this reason, observed for the current generation. */
export const failedWith = (reason: string) => (k: KustomizationObject) =>
  readyOf(k)?.status === "False" && readyOf(k)?.reason === reason;

/** Ready=True at this revision. */
export const readyAt = (revision: string) => (k: KustomizationObject) =>
  readyOf(k)?.status === "True" && k.status?.lastAppliedRevision === revision;

const eventType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };

/** The core/v1 Events of the namespace (all of them: a secret must leak into none). */
export async function namespaceEvents(h: Harness): Promise<(KubeObject & { message?: string; reason?: string })[]> {
  const { items } = await h.client.list<KubeObject & { message?: string; reason?: string }>(eventType, {
    namespace: h.namespace,
  });
  return items;
}

export async function getConfigMap(h: Harness, name: string, namespace = h.namespace) {
  return h.client.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    name,
    namespace,
  });
}
