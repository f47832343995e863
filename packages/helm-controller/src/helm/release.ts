// Helm's release records as Helm stores them (driver "secret"): Secrets `sh.helm.release.v1.<name>.v<N>` labelled
// owner=helm,name=<name>,version=<N>,status=<status>, whose `release` key holds base64(gzip(JSON)). Reading them
// directly gives status what `helm history` shows, without asking helm to print values (which may hold secrets).
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { Client, KubeObject } from "@capstan/runtime";
import { secretType } from "@capstan/runtime";

export interface HelmHook {
  name: string;
  kind?: string;
  events?: string[];
  last_run?: { started_at?: string; completed_at?: string; phase?: string };
}

/** The fields of Helm's release record that the controller reads. */
export interface HelmReleaseRecord {
  name: string;
  namespace: string;
  version: number;
  info: {
    first_deployed?: string;
    last_deployed?: string;
    deleted?: string;
    description?: string;
    status: string;
  };
  chart: { metadata: { name: string; version: string; appVersion?: string } };
  config?: Record<string, unknown> | null;
  hooks?: HelmHook[];
  /** The rendered (and post-rendered) objects of the revision, as Helm applied them: YAML documents. */
  manifest?: string;
  /** sha256 of the stored record, Flux's snapshot digest. */
  digest: string;
}

/** Largest release record accepted after decompression (Helm's Secrets hold at most 1 MiB compressed). */
const maxRecordBytes = 32 * 1024 * 1024;

export function decodeRelease(encoded: string): HelmReleaseRecord {
  // Secret data is base64 of Helm's own base64 text, which is gzip (magic 1f 8b) or, from very old Helm, plain JSON.
  const inner = Buffer.from(Buffer.from(encoded, "base64").toString("utf8"), "base64");
  const json = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner, { maxOutputLength: maxRecordBytes }) : inner;
  const rec = JSON.parse(json.toString("utf8")) as Omit<HelmReleaseRecord, "digest">;
  return { ...rec, digest: `sha256:${createHash("sha256").update(json).digest("hex")}` };
}

/** Every stored revision of release `name` in `namespace`, newest first. */
export async function listReleases(client: Client, namespace: string, name: string): Promise<HelmReleaseRecord[]> {
  const { items } = await client.list<KubeObject & { data?: Record<string, string> }>(secretType, {
    namespace,
    labelSelector: `owner=helm,name=${name}`,
  });
  const out: HelmReleaseRecord[] = [];
  for (const s of items) {
    const encoded = s.data?.release;
    if (!encoded) continue;
    try {
      out.push(decodeRelease(encoded));
    } catch {
      // A record that does not decode is not ours to judge; helm itself will report it when it acts.
    }
  }
  return out.sort((a, b) => b.version - a.version);
}

/** Helm's status values (release.Status). */
export const ReleaseStatus = {
  Deployed: "deployed",
  Failed: "failed",
  Superseded: "superseded",
  Uninstalled: "uninstalled",
  Uninstalling: "uninstalling",
  PendingInstall: "pending-install",
  PendingUpgrade: "pending-upgrade",
  PendingRollback: "pending-rollback",
} as const;

export function isPending(status: string): boolean {
  return status.startsWith("pending-") || status === ReleaseStatus.Uninstalling;
}

/** `<namespace>/<name>.v<version>`, as Flux names a release in messages. */
export function releaseId(rel: Pick<HelmReleaseRecord, "namespace" | "name" | "version">): string {
  return `${rel.namespace}/${rel.name}.v${rel.version}`;
}

/** JSON with object keys sorted, as Go's encoding/json writes maps. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(v as Record<string, unknown>).sort()) {
        sorted[key] = (v as Record<string, unknown>)[key];
      }
      return sorted;
    }
    return v;
  });
}

/** Flux's config digest: sha256 of the values as canonical JSON. An empty config digests as `{}`. */
export function configDigest(values: Record<string, unknown> | null | undefined): string {
  return `sha256:${createHash("sha256")
    .update(canonicalJson(values ?? {}))
    .digest("hex")}`;
}

/** Test hooks of a release with their last run, keyed by name (Flux's snapshot testHooks). */
export function testHooks(
  rel: HelmReleaseRecord,
): Record<string, { lastStarted?: string; lastCompleted?: string; phase?: string }> {
  const out: Record<string, { lastStarted?: string; lastCompleted?: string; phase?: string }> = {};
  for (const h of rel.hooks ?? []) {
    if (!(h.events ?? []).includes("test")) continue;
    const run = h.last_run ?? {};
    const entry: { lastStarted?: string; lastCompleted?: string; phase?: string } = {};
    if (run.started_at && !run.started_at.startsWith("0001-")) entry.lastStarted = run.started_at;
    if (run.completed_at && !run.completed_at.startsWith("0001-")) entry.lastCompleted = run.completed_at;
    if (run.phase) entry.phase = run.phase;
    out[h.name] = entry;
  }
  return out;
}
