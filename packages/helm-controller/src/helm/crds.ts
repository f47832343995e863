// The CRD policies Helm's CLI does not have, as Flux's helm-controller applies them: `install.crds: CreateReplace`
// and `upgrade.crds: Create|CreateReplace` (helm installs crds/ only on install, creating, and never touches them on
// upgrade). The chart's CRDs (`helm show crds`, its dependencies' included) are applied by the controller before the
// action, with the release's own client (the impersonated ServiceAccount: it needs rights on CRDs, as helm would) and
// Helm's field manager: Create creates the missing ones, CreateReplace server-side applies them all (existing ones
// are updated, none deleted). Then it waits until each is Established, so the release's custom resources can apply.
import type { Client, KubeObject } from "@capstan/runtime";
import { manifestObjects } from "../drift/detect.js";

export type CrdPolicy = "Skip" | "Create" | "CreateReplace";

/** Most CRDs one chart may bring. */
export const maxCrds = 500;

const crdRef = (name: string) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  name,
});

/** The CRD documents of `helm show crds` output. */
export function crdObjects(yaml: string): KubeObject[] {
  const crds = manifestObjects(yaml).filter(
    (o) => o.kind === "CustomResourceDefinition" && o.apiVersion.startsWith("apiextensions.k8s.io/"),
  );
  if (crds.length > maxCrds) throw new Error(`the chart has more than ${maxCrds} CustomResourceDefinitions`);
  return crds;
}

export interface ApplyCrdsOptions {
  client: Client;
  fieldManager: string;
  /** How long to wait for the CRDs to be Established. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Applies `crds` as `policy` says; the names of those created or updated. */
export async function applyCrds(
  crds: readonly KubeObject[],
  policy: CrdPolicy,
  o: ApplyCrdsOptions,
): Promise<string[]> {
  if (policy === "Skip") return [];
  const changed: string[] = [];
  for (const crd of crds) {
    const name = crd.metadata.name;
    if (policy === "Create" && (await o.client.get(crdRef(name)))) continue;
    await o.client.apply(crd, { fieldManager: o.fieldManager, force: true });
    changed.push(name);
  }
  const deadline = Date.now() + o.timeoutMs;
  for (const name of changed) {
    for (;;) {
      const got = await o.client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        crdRef(name),
      );
      if (got?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CustomResourceDefinition ${name} not Established in time`);
      if (o.signal?.aborted) throw new Error("canceled");
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return changed;
}
