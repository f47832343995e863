// The demo's view of the cluster: one row per Kustomization with its revision, readiness, objects and replicas, then
// one per HelmRelease with its chart version, readiness, revision count in Helm's storage and replicas.
import { helmReleaseType, kustomizationType } from "@capstan/api";
import type { KubeObject } from "@capstan/runtime";
import type { ObjectReader } from "./kube.js";
import { demoNamespace, helmReleaseNames, kustomizationNames } from "./state.js";

export interface Row {
  name: string;
  revision: string;
  ready: string;
  reason: string;
  objects: number;
  replicas: string;
}

interface KustomizationLike extends KubeObject {
  spec?: { path?: string };
  status?: {
    lastAppliedRevision?: string;
    inventory?: { entries?: { id: string }[] };
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

interface HelmReleaseLike extends KubeObject {
  spec?: { releaseName?: string; targetNamespace?: string };
  status?: {
    history?: { chartVersion?: string; version?: number }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The demo's rows; `namespace` is where the demo's objects are (the e2e test runs them in its own). */
export async function collectRows(client: ObjectReader, namespace = demoNamespace): Promise<Row[]> {
  return [...(await kustomizationRows(client, namespace)), ...(await helmReleaseRows(client, namespace))];
}

async function helmReleaseRows(client: ObjectReader, namespace: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of helmReleaseNames) {
    const hr = await client.get<HelmReleaseLike>({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      name,
      namespace,
    });
    if (!hr) continue;
    const ready = hr.status?.conditions?.find((c) => c.type === "Ready");
    const latest = hr.status?.history?.[0];
    // The demo's chart names its Deployment after the release.
    const target = hr.spec?.targetNamespace ?? namespace;
    const release = hr.spec?.releaseName ?? name;
    rows.push({
      name: `hr/${name}`,
      revision: latest?.chartVersion ? `chart ${latest.chartVersion} (v${latest.version ?? "?"})` : "-",
      ready: ready?.status ?? "Unknown",
      reason: ready?.reason ?? "",
      objects: 0,
      replicas: latest ? await replicas(client, [`${target}_${release}_apps_Deployment`]) : "-",
    });
  }
  return rows;
}

async function kustomizationRows(client: ObjectReader, namespace: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of kustomizationNames) {
    const ks = await client.get<KustomizationLike>({
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      name,
      namespace,
    });
    if (!ks) continue;
    const ready = ks.status?.conditions?.find((c) => c.type === "Ready");
    const entries = ks.status?.inventory?.entries ?? [];
    rows.push({
      name,
      revision: shortRevision(ks.status?.lastAppliedRevision),
      ready: ready?.status ?? "Unknown",
      reason: ready?.reason ?? "",
      objects: entries.length,
      replicas: await replicas(
        client,
        entries.map((e) => e.id),
      ),
    });
  }
  return rows;
}

/** ready/desired over the Deployments in an inventory ("-" when it has none). */
async function replicas(client: ObjectReader, ids: string[]): Promise<string> {
  let ready = 0;
  let desired = 0;
  let any = false;
  for (const id of ids) {
    // Flux's inventory id: <namespace>_<name>_<group>_<kind>
    const [namespace, name, group, kind] = id.split("_");
    if (kind !== "Deployment" || group !== "apps" || !name) continue;
    any = true;
    const d = await client.get<KubeObject & { spec?: { replicas?: number }; status?: { readyReplicas?: number } }>({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name,
      ...(namespace ? { namespace } : {}),
    });
    desired += d?.spec?.replicas ?? 0;
    ready += d?.status?.readyReplicas ?? 0;
  }
  return any ? `${ready}/${desired}` : "-";
}

function shortRevision(revision: string | undefined): string {
  if (!revision) return "-";
  const at = revision.lastIndexOf("@sha1:");
  return at < 0 ? revision : `${revision.slice(0, at)}@sha1:${revision.slice(at + 6, at + 6 + 7)}`;
}

export function progressLine(row: Row): string {
  return `${row.name.padEnd(13)} Ready=${row.ready.padEnd(7)} ${row.reason}${row.revision !== "-" ? ` ${row.revision}` : ""}`;
}

export function formatTable(rows: Row[]): string {
  const header: Row = {
    name: "NAME",
    revision: "REVISION",
    ready: "READY",
    reason: "REASON",
    objects: 0,
    replicas: "REPLICAS",
  };
  const cells = [header, ...rows].map((r, i) => [
    r.name,
    r.revision,
    r.ready,
    i === 0 ? "OBJECTS" : r.name.startsWith("hr/") ? "-" : String(r.objects),
    r.replicas,
    r.reason,
  ]);
  const widths = cells[0]?.map((_, c) => Math.max(...cells.map((row) => row[c]?.length ?? 0))) ?? [];
  return cells
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
