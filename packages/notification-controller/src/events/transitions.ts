// Transition detection: given what was last notified about an object (its ObservedState) and the object now, which
// events are new. Pure, so the live path (informer updates) and the restart path (stored high-water mark vs the first
// list) run the same code.
import { createHash } from "node:crypto";
import { ConditionStatus } from "@capstan/api";
import { Conditions, Reasons } from "@capstan/runtime";
import { artifactEvent } from "./artifact-event.js";
import { EventAnnotationPrefix, type FluxEvent, fluxTimestamp, MetaRevisionKey } from "./event.js";
import { transitionKey } from "./event-id.js";
import { findCondition, reportingControllerFor, type WatchedObject } from "./watched.js";

/**
 * What has been notified about one object, compact enough for 1,000s of objects per ConfigMap: short hashes of the
 * artifact revision, the applied revision and the Ready reason+message, plus the Ready and Stalled statuses.
 */
export interface ObservedState {
  artifact?: string;
  applied?: string;
  ready?: string;
  readyDigest?: string;
  stalled?: string;
}

export function shortHash(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 12);
}

export function observe(obj: WatchedObject): ObservedState {
  const state: ObservedState = {};
  const artifact = obj.status?.artifact?.revision;
  if (artifact) state.artifact = shortHash(artifact);
  const applied = obj.status?.lastAppliedRevision;
  if (applied) state.applied = shortHash(applied);
  const ready = findCondition(obj, Conditions.Ready);
  if (ready) {
    state.ready = ready.status;
    state.readyDigest = shortHash(`${ready.reason ?? ""}\n${ready.message ?? ""}`);
  }
  const stalled = findCondition(obj, Conditions.Stalled);
  if (stalled) state.stalled = stalled.status;
  return state;
}

const statusCode: Record<string, string> = { True: "T", False: "F", Unknown: "U" };
const statusName: Record<string, string> = {
  T: ConditionStatus.True,
  F: ConditionStatus.False,
  U: ConditionStatus.Unknown,
};

/** "artifact.applied.R.readyDigest.S" with empty fields for absent values. */
export function encodeState(s: ObservedState): string {
  const code = (v?: string) => (v ? (statusCode[v] ?? "U") : "");
  return [s.artifact ?? "", s.applied ?? "", code(s.ready), s.readyDigest ?? "", code(s.stalled)].join(".");
}

export function decodeState(encoded: string): ObservedState {
  const [artifact, applied, ready, readyDigest, stalled] = encoded.split(".");
  const s: ObservedState = {};
  if (artifact) s.artifact = artifact;
  if (applied) s.applied = applied;
  if (ready) s.ready = statusName[ready] ?? ConditionStatus.Unknown;
  if (readyDigest) s.readyDigest = readyDigest;
  if (stalled) s.stalled = statusName[stalled] ?? ConditionStatus.Unknown;
  return s;
}

export interface DetectOptions {
  now: Date;
  reportingInstance?: string;
}

function changeSetMessage(changeSet: string | string[] | undefined): string | undefined {
  if (changeSet === undefined) return undefined;
  const text = Array.isArray(changeSet) ? changeSet.join("\n") : changeSet;
  return text.trim() ? text : undefined;
}

/**
 * The object's `event.toolkit.fluxcd.io/` annotations, keys unchanged, as Flux's event recorder adds them to every event
 * it emits about the object; `notificationFor` strips the prefix, as Flux's notification-controller does.
 */
export function annotationMetadata(obj: WatchedObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj.metadata.annotations ?? {})) {
    if (key.startsWith(EventAnnotationPrefix) && key.length > EventAnnotationPrefix.length) out[key] = value;
  }
  return out;
}

function makeEvent(
  obj: WatchedObject,
  opts: DetectOptions,
  fields: { severity: FluxEvent["severity"]; reason: string; message: string; at?: string; revision?: string },
  state: string,
): FluxEvent {
  const { severity, reason, message, at, revision } = fields;
  const statusTime = at && !Number.isNaN(Date.parse(at)) ? fluxTimestamp(new Date(at)) : undefined;
  const id = transitionKey({
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
    severity,
    reason,
    message,
    ...(revision ? { revision } : {}),
    ...(statusTime ? { at: statusTime } : {}),
    state,
  });
  const metadata = { ...annotationMetadata(obj), ...(revision ? { [MetaRevisionKey]: revision } : {}) };
  return {
    involvedObject: {
      kind: obj.kind,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      name: obj.metadata.name,
      ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
      apiVersion: obj.apiVersion,
      ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
    },
    severity,
    timestamp: statusTime ?? fluxTimestamp(opts.now),
    message,
    reason,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    reportingController: reportingControllerFor(obj.apiVersion),
    ...(opts.reportingInstance ? { reportingInstance: opts.reportingInstance } : {}),
    // The object-level transition key; the pipeline turns it into the per-Alert notification id.
    id,
  };
}

/**
 * The events for the step from `prev` to `obj`. `prev` undefined means nothing was ever notified about the object
 * (it appeared, possibly while the controller was down): its current revision and failure, if any, are news.
 */
export function detectTransitions(
  prev: ObservedState | undefined,
  obj: WatchedObject,
  opts: DetectOptions,
): FluxEvent[] {
  const before = prev ?? {};
  const now = observe(obj);
  const state = encodeState(now);
  const status = obj.status ?? {};
  const events: FluxEvent[] = [];
  const base = (severity: FluxEvent["severity"], reason: string, message: string, at?: string, revision?: string) => {
    const fields = { severity, reason, message, ...(at ? { at } : {}), ...(revision ? { revision } : {}) };
    events.push(makeEvent(obj, opts, fields, state));
  };

  const artifact = status.artifact?.revision;
  if (artifact && now.artifact !== before.artifact) {
    const { reason, message } = artifactEvent(obj, artifact);
    base("info", reason, message, status.artifact?.lastUpdateTime, artifact);
  }

  const ready = findCondition(obj, Conditions.Ready);
  const applied = status.lastAppliedRevision;
  if (applied && now.applied !== before.applied) {
    const message = changeSetMessage(status.lastAppliedChangeSet) ?? `Applied revision: ${applied}`;
    base("info", Reasons.ReconciliationSucceeded, message, ready?.lastTransitionTime, applied);
  }

  const revision = status.lastAttemptedRevision || artifact || applied;
  conditionEvents(obj, before, now, revision, applied || artifact, base);
  return events;
}

type Emit = (severity: FluxEvent["severity"], reason: string, message: string, at?: string, revision?: string) => void;

/**
 * Stalled (error), Ready turning False or failing differently (error), Ready recovering from False (info).
 * Two kinds of Ready=False are not failures, as in Flux, which emits no error event for them: a first attempt still
 * waiting for what it needs (Reconciling=True with reason Progressing, kstatus InProgress, e.g. a source without an
 * artifact yet), and a dependency not ready yet (DependencyNotReady, an info event in Flux).
 */
function conditionEvents(
  obj: WatchedObject,
  before: ObservedState,
  now: ObservedState,
  revision: string | undefined,
  goodRevision: string | undefined,
  emit: Emit,
): void {
  const { True, False } = ConditionStatus;
  const ready = findCondition(obj, Conditions.Ready);
  const stalled = findCondition(obj, Conditions.Stalled);
  const stalledNow = stalled?.status === True && before.stalled !== True;
  if (stalledNow && stalled) {
    // Without a reason, the condition's type says it.
    emit("error", stalled.reason || Conditions.Stalled, stalled.message ?? "", stalled.lastTransitionTime, revision);
  }
  if (ready?.status === False && (before.ready !== False || before.readyDigest !== now.readyDigest)) {
    // A Stalled event with the same words already says it.
    const sameAsStalled =
      stalledNow && stalled?.reason === ready.reason && (stalled?.message ?? "") === (ready.message ?? "");
    const reconciling = findCondition(obj, Conditions.Reconciling);
    const inProgress = reconciling?.status === True && reconciling.reason === Reasons.Progressing;
    if (!sameAsStalled && !inProgress) {
      const severity = ready.reason === Reasons.DependencyNotReady ? "info" : "error";
      const reason = ready.reason || Reasons.ReconciliationFailed;
      emit(severity, reason, ready.message ?? "", ready.lastTransitionTime, revision);
    }
  } else if (ready?.status === True && before.ready === False) {
    emit("info", ready.reason || Reasons.Succeeded, ready.message ?? "", ready.lastTransitionTime, goodRevision);
  }
}
