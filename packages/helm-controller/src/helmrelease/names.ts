// Names Flux derives from a HelmRelease: the release name, its namespaces, and the HelmChart spec.chart creates.
import { createHash } from "node:crypto";
import type { HelmReleaseObject } from "./types.js";

/** spec.releaseName, else `[<targetNamespace>-]<name>`; over 53 characters, shortened with a hash as Flux does. */
export function releaseNameOf(obj: HelmReleaseObject): string {
  if (obj.spec.releaseName) return obj.spec.releaseName;
  const name = obj.spec.targetNamespace ? `${obj.spec.targetNamespace}-${obj.metadata.name}` : obj.metadata.name;
  if (name.length <= 53) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 12);
  return `${name.slice(0, 40)}-${hash}`;
}

/** Where the release's objects go: spec.targetNamespace, else the HelmRelease's namespace. */
export function releaseNamespaceOf(obj: HelmReleaseObject): string {
  return obj.spec.targetNamespace ?? obj.metadata.namespace ?? "default";
}

/**
 * Where the release is stored: spec.storageNamespace, else the HelmRelease's namespace, as Flux's default (which
 * differs from helm's CLI only with spec.targetNamespace). A release moved from Flux is then found where Flux stored it,
 * not uninstalled and installed anew as a changed release target.
 */
export function storageNamespaceOf(obj: HelmReleaseObject): string {
  return obj.spec.storageNamespace || obj.metadata.namespace || "default";
}

/** The HelmChart spec.chart creates: `<namespace>-<name>` in the source's namespace. */
export function helmChartRefOf(obj: HelmReleaseObject): { namespace: string; name: string } | undefined {
  const ns = obj.metadata.namespace ?? "default";
  if (obj.spec.chart) {
    return { namespace: obj.spec.chart.spec.sourceRef.namespace ?? ns, name: `${ns}-${obj.metadata.name}` };
  }
  if (obj.spec.chartRef?.kind === "HelmChart") {
    return { namespace: obj.spec.chartRef.namespace ?? ns, name: obj.spec.chartRef.name };
  }
  return undefined;
}
