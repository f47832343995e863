// Drift detection and correction of a release's objects, as Flux's helm-controller does it: the manifest Helm stored
// for the deployed revision is read back into objects (with the metadata Helm sets on them), each is server-side
// dry-run applied under Helm's field manager and compared with the live object; a missing object is drift too.
// Correction changes the objects only, never Helm's storage (no new revision, as in Flux): a missing object is
// server-side applied as Helm applies it, a changed one gets a merge patch back to its dry-run result (ignored
// pointers keep their live value), both under Helm's field manager. Every call goes through the release's own client
// (the impersonated ServiceAccount or the remote cluster), so drift detection needs no rights helm itself lacks.
import { ApiError, type Client, type KubeObject } from "@capstan/runtime";
import { parseAllDocuments } from "yaml";
import { compare, correctionPatch, type Drift, resourceName } from "./diff.js";
import type { CompiledIgnoreRules } from "./selector.js";

/** Flux's label/annotation that takes an object out of drift detection. */
export const driftDetectionKey = "helm.toolkit.fluxcd.io/driftDetection";
export const driftDetectionDisabled = "disabled";

/** Most objects read from one release manifest. */
export const maxManifestObjects = 5000;

export interface DriftOptions {
  /** The release's client (impersonating, or the remote cluster's). */
  client: Client;
  /** Helm's field manager (helm's binary name: what `helm install/upgrade` applied with). */
  fieldManager: string;
  releaseName: string;
  releaseNamespace: string;
  ignore: CompiledIgnoreRules;
}

/** Reads Helm's stored manifest into objects; documents that are not objects (empty, comments) are skipped. */
export function manifestObjects(manifest: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (doc.errors.length > 0) throw new Error(`release manifest does not parse: ${doc.errors[0]?.message ?? ""}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const obj = value as Partial<KubeObject>;
    if (typeof obj !== "object" || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") continue;
    if (typeof obj.metadata?.name !== "string") continue;
    out.push(obj as KubeObject);
    if (out.length > maxManifestObjects)
      throw new Error(`release manifest has more than ${maxManifestObjects} objects`);
  }
  return out;
}

/** The labels and annotations Helm sets on every object it creates (what its apply carried). */
function withHelmMetadata(obj: KubeObject, name: string, namespace: string): KubeObject {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      labels: { ...(obj.metadata.labels ?? {}), "app.kubernetes.io/managed-by": "Helm" },
      annotations: {
        ...(obj.metadata.annotations ?? {}),
        "meta.helm.sh/release-name": name,
        "meta.helm.sh/release-namespace": namespace,
      },
    },
  };
}

const disabledIn = (obj: KubeObject | undefined) =>
  obj?.metadata.labels?.[driftDetectionKey] === driftDetectionDisabled ||
  obj?.metadata.annotations?.[driftDetectionKey] === driftDetectionDisabled;

/** A message safe to show: a Secret's API error keeps only its last clause (the apiserver may echo data). */
function errorText(obj: KubeObject, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (obj.kind !== "Secret" || !(err instanceof ApiError) || err.reason !== "Invalid") return text;
  const i = text.lastIndexOf(":");
  return i < 0 ? text : text.slice(i + 1).trim();
}

export interface DetectResult {
  /** Drifted and excluded objects, in manifest order. */
  drifts: Drift[];
  /** Objects that could not be compared (`Kind/ns/name: why`). */
  errors: string[];
}

/** Compares every object of the manifest with the cluster. */
export async function detectDrift(manifest: string, o: DriftOptions): Promise<DetectResult> {
  const drifts: Drift[] = [];
  const errors: string[] = [];
  const namespaced = new Map<string, boolean>();
  for (const raw of manifestObjects(manifest)) {
    let desired = withHelmMetadata(raw, o.releaseName, o.releaseNamespace);
    try {
      const gvk = `${desired.apiVersion}/${desired.kind}`;
      if (!namespaced.has(gvk))
        namespaced.set(gvk, (await o.client.resourceFor(desired.apiVersion, desired.kind)).namespaced);
      if (namespaced.get(gvk) && !desired.metadata.namespace) {
        desired = { ...desired, metadata: { ...desired.metadata, namespace: o.releaseNamespace } };
      }
      const ignored = o.ignore.pathsFor(desired);
      if (ignored.includes("")) continue;
      const live = await o.client.get({
        apiVersion: desired.apiVersion,
        kind: desired.kind,
        name: desired.metadata.name,
        ...(desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {}),
      });
      if (disabledIn(desired) || disabledIn(live)) {
        drifts.push({ type: "exclude", desired, ...(live ? { live } : {}), ignored, ops: [] });
        continue;
      }
      if (!live) {
        drifts.push({ type: "create", desired, ignored, ops: [] });
        continue;
      }
      const dryRun = await o.client.apply(desired, { fieldManager: o.fieldManager, force: true, dryRun: true });
      const ops = compare(live, dryRun, ignored);
      if (ops.length > 0) drifts.push({ type: "update", desired, dryRun, live, ignored, ops });
    } catch (err) {
      errors.push(`${resourceName(desired)}: ${errorText(desired, err)}`);
    }
  }
  return { drifts, errors };
}

export interface CorrectResult {
  /** Flux's change set lines: `Kind/ns/name created|configured`. */
  changes: string[];
  /** `Kind/ns/name creation|patch failure: why`. */
  errors: string[];
}

function groupKindOrder(a: Drift, b: Drift): number {
  const key = (d: Drift) =>
    `${d.desired.apiVersion.includes("/") ? d.desired.apiVersion.split("/")[0] : ""}\0${d.desired.kind}\0${d.desired.metadata.namespace ?? ""}\0${d.desired.metadata.name}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** Creates the missing objects, then patches the changed ones (each set sorted as Flux sorts it). */
export async function correctDrift(drifts: readonly Drift[], o: DriftOptions): Promise<CorrectResult> {
  const changes: string[] = [];
  const errors: string[] = [];
  for (const d of drifts.filter((x) => x.type === "create").sort(groupKindOrder)) {
    try {
      await o.client.apply(d.desired, { fieldManager: o.fieldManager, force: true });
      changes.push(`${resourceName(d.desired)} created`);
    } catch (err) {
      errors.push(`${resourceName(d.desired)} creation failure: ${errorText(d.desired, err)}`);
    }
  }
  for (const d of drifts.filter((x) => x.type === "update").sort(groupKindOrder)) {
    if (!d.live || !d.dryRun) continue;
    try {
      const ref = {
        apiVersion: d.desired.apiVersion,
        kind: d.desired.kind,
        name: d.desired.metadata.name,
        ...(d.desired.metadata.namespace ? { namespace: d.desired.metadata.namespace } : {}),
      };
      await o.client.mergePatch(ref, correctionPatch(d.live, d.dryRun, d.ignored), { fieldManager: o.fieldManager });
      changes.push(`${resourceName(d.desired)} configured`);
    } catch (err) {
      errors.push(`${resourceName(d.desired)} patch failure: ${errorText(d.desired, err)}`);
    }
  }
  return { changes, errors };
}
