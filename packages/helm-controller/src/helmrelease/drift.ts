// spec.driftDetection for a release that is in sync with its spec, as Flux's helm-controller: mode `warn` emits a
// DriftDetected Warning Event naming the drifted objects and changes nothing; mode `enabled` emits it too, then
// corrects the objects (Helm's storage is left as it is: no new revision, status.history unchanged) and emits
// DriftCorrected, or DriftCorrectionFailed with what failed. A failed correction leaves Ready False
// (DriftCorrectionFailed) and is retried with backoff until the cluster matches or a new release action runs.
import { basename } from "node:path";
import { type Client, type ReconcileContext, ReconcileError } from "@capstan/runtime";
import { correctDrift, type DriftOptions, detectDrift } from "../drift/detect.js";
import { summarize, summarizeBrief } from "../drift/diff.js";
import { compileIgnoreRules } from "../drift/selector.js";
import { type HelmReleaseRecord, releaseId } from "../helm/release.js";
import type { HelmReleaseObject } from "./types.js";

/** Flux's Event reasons of drift detection and correction. */
export const DriftReasons = {
  DriftDetected: "DriftDetected",
  DriftCorrected: "DriftCorrected",
  DriftCorrectionFailed: "DriftCorrectionFailed",
  /** Flux's reason on Ready when the release state cannot be determined (here: the cluster state). */
  StateError: "StateError",
} as const;

export interface DriftContext {
  ctx: ReconcileContext;
  obj: HelmReleaseObject;
  /** The release's client (impersonating, or the remote cluster's). */
  client: Client;
  helmBinary: string;
  event(type: "Normal" | "Warning", reason: string, message: string): void;
}

export async function checkDrift(d: DriftContext, latest: HelmReleaseRecord): Promise<void> {
  const mode = d.obj.spec.driftDetection?.mode;
  if (mode !== "enabled" && mode !== "warn") return;
  const options: DriftOptions = {
    client: d.client,
    // What helm applied with: client-go names the field manager after the binary (`helm`).
    fieldManager: basename(d.helmBinary),
    releaseName: latest.name,
    releaseNamespace: latest.namespace,
    ignore: compileIgnoreRules(d.obj.spec.driftDetection?.ignore),
  };
  const rel = releaseId(latest);
  let found: Awaited<ReturnType<typeof detectDrift>>;
  try {
    found = await detectDrift(latest.manifest ?? "", options);
  } catch (cause) {
    throw new ReconcileError(
      `Could not determine release state: unable to determine cluster state: ${(cause as Error).message}`,
      { reason: DriftReasons.StateError, cause },
    );
  }
  if (found.errors.length > 0) {
    throw new ReconcileError(
      `Could not determine release state: unable to determine cluster state: ${found.errors.join("; ")}`,
      { reason: DriftReasons.StateError },
    );
  }
  const drifted = found.drifts.filter((x) => x.type !== "exclude");
  if (drifted.length === 0) {
    d.ctx.log.debug({ release: rel }, "no drift detected");
    return;
  }
  d.ctx.log.info({ release: rel }, `detected changes in cluster state: ${summarizeBrief(found.drifts)}`);
  for (const x of drifted) {
    // Paths only: values may be a Secret's data.
    d.ctx.log.debug(
      { resource: `${x.desired.kind}/${x.desired.metadata.namespace ?? ""}/${x.desired.metadata.name}`, ops: x.ops },
      x.type === "create" ? "resource deleted" : "resource modified",
    );
  }
  d.event(
    "Warning",
    DriftReasons.DriftDetected,
    `Cluster state of release ${rel} has drifted from the desired state:\n${summarize(found.drifts)}`,
  );
  if (mode !== "enabled") return;
  const { changes, errors } = await correctDrift(drifted, options);
  if (errors.length > 0) {
    const message = `Failed to ${changes.length > 0 ? "partially " : ""}correct cluster state of release ${rel}:\n${errors.join("\n")}${
      changes.length > 0 ? `\n\nSuccessful corrections:\n${changes.join("\n")}` : ""
    }`;
    d.event("Warning", DriftReasons.DriftCorrectionFailed, message);
    throw new ReconcileError(message, { reason: DriftReasons.DriftCorrectionFailed, event: false });
  }
  d.event(
    "Normal",
    DriftReasons.DriftCorrected,
    `Cluster state of release ${rel} has been corrected:\n${changes.join("\n")}`,
  );
}
