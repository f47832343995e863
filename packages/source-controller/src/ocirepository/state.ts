// What the OCIRepository sub-reconcilers pass to one another within one reconcile.
import type { OCILayerSelector, OCIRepository } from "@capstan/api";
import type { WithConditions } from "@capstan/runtime";
import type { Descriptor } from "./client.js";

export type OCIRepositoryObject = OCIRepository & WithConditions;

export interface PulledLayer {
  revision: string;
  /** Manifest digest (sha256:<hex>). */
  digest: string;
  annotations: Record<string, string>;
  layer: Descriptor;
  /** The downloaded blob (copy) and, for extract, the directory it was unpacked into. */
  blobFile: string;
  extractedDir?: string;
}

export interface OciState {
  /** Scratch directory of this reconcile; removed at the end whatever happens. */
  tmp?: string;
  revision?: string;
  pulled?: PulledLayer;
  previousDigest?: string;
  /** The registry's revision and the content settings match the stored artifact: nothing to pull or build. */
  upToDate: boolean;
}

export const newState = (): OciState => ({ upToDate: false });

/** spec.layerSelector with Flux's default operation, so two equal selectors compare equal. */
export function normalizeSelector(s: OCILayerSelector | undefined): OCILayerSelector | undefined {
  if (!s || (!s.mediaType && !s.operation)) return undefined;
  return { ...(s.mediaType ? { mediaType: s.mediaType } : {}), operation: s.operation ?? "extract" };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Whether the stored artifact was built with the spec's current ignore and layer selector (Flux's observed* fields). */
export function contentConfigUnchanged(obj: OCIRepositoryObject): boolean {
  const status = obj.status ?? {};
  return (
    same(status.observedIgnore, obj.spec.ignore) &&
    same(normalizeSelector(status.observedLayerSelector), normalizeSelector(obj.spec.layerSelector))
  );
}
