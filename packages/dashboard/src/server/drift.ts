// Drift history from Events. kustomize-controller records each apply's change set as a Normal `Progressing` Event
// ("ConfigMap/team/settings configured", one line per changed object) with the source revision in the
// `kustomize.toolkit.fluxcd.io/revision` annotation, as Flux's does. A change set applied at a revision that was
// already applied before means the cluster had moved away from Git and was put back: objects changed (configured) or
// deleted (created again) by hand, then reverted. A revision counts as applied before an Event when an earlier
// change set of it was recorded, or when the dashboard saw it as status.lastAppliedRevision before the Event was
// created (a revision's first apply records its change set before the status says it is applied).
//
// When the Event was created: an Event's timestamps have whole seconds only, but recorders name Events as client-go
// does, `<object>.<creation time in hex nanoseconds>` (Flux's and Capstan's both), which gives the millisecond. With
// it, a correction counts once it was created more than `appliedSlackMs` (250 ms: clock skew between controller and
// dashboard) after the dashboard saw the revision applied; a correction needs a whole new reconcile, so it comes
// later than that. An Event named otherwise falls back to its firstTimestamp with a slack of two seconds (one of
// truncation, one of skew): a correction within two seconds of a first apply that changed nothing is then missed.
// The apiserver keeps Events for an hour by default, so this is the recent history, not an audit log.
import type { DriftView } from "../shared/types.js";
import { clip, type Obj } from "./model.js";

const revisionAnnotation = "kustomize.toolkit.fluxcd.io/revision";
const changeLine = /^(\S+\/\S+) (configured|created)$/;
const maxDrift = 50;
const maxObjects = 50;

interface Applied {
  revision: string;
  first: string;
  /** When the Event was created (ms), and how far that may be off the dashboard's clock. */
  createdMs: number;
  slackMs: number;
  last: string;
  count: number;
  objects: string[];
}

function applied(ev: Obj): Applied | undefined {
  const e = ev as unknown as Record<string, unknown>;
  if (e.type !== "Normal" || e.reason !== "Progressing" || typeof e.message !== "string") return undefined;
  const revision = ev.metadata.annotations?.[revisionAnnotation];
  if (!revision) return undefined;
  const objects: string[] = [];
  for (const line of e.message.slice(0, 64 * 1024).split("\n")) {
    const m = changeLine.exec(line.trim());
    if (m?.[1] && objects.length < maxObjects) objects.push(clip(m[0], 600));
  }
  if (objects.length === 0) return undefined;
  const series = (e.series ?? {}) as Record<string, unknown>;
  const first =
    clip(e.firstTimestamp, 64) ||
    clip(e.eventTime, 64) ||
    clip((ev.metadata as Record<string, unknown>).creationTimestamp, 64);
  const last = clip(series.lastObservedTime, 64) || clip(e.lastTimestamp, 64) || first;
  const count = typeof e.count === "number" ? e.count : typeof series.count === "number" ? series.count : 1;
  return { revision: clip(revision, 256), first, last, count, objects, ...createdAt(ev.metadata.name, first) };
}

/** After the dashboard saw a revision applied, by this much, an Event at it came from a later pass. */
const appliedSlackMs = 250;
/** The same, for an Event whose time is known to the second only. */
const secondsSlackMs = 2_000;

/**
 * When an Event was created: from its client-go style name (`<object>.<hex UnixNano>`) when that agrees with its
 * firstTimestamp (within its second), else the firstTimestamp itself.
 */
export function createdAt(name: string, first: string): { createdMs: number; slackMs: number } {
  const firstMs = Date.parse(first);
  const hex = /\.([0-9a-f]{12,16})$/.exec(name)?.[1];
  if (hex && Number.isFinite(firstMs)) {
    const ms = Number(BigInt(`0x${hex}`) / 1_000_000n);
    if (ms >= firstMs && ms < firstMs + 1_000) return { createdMs: ms, slackMs: appliedSlackMs };
  }
  return { createdMs: Number.isFinite(firstMs) ? firstMs : 0, slackMs: secondsSlackMs };
}

/**
 * The drift corrections the Events of one Kustomization show, newest first. `appliedSeen` maps a revision to when the
 * dashboard first saw it as the Kustomization's lastAppliedRevision (ms since the epoch).
 */
export function driftHistory(events: Obj[], appliedSeen: ReadonlyMap<string, number> = new Map()): DriftView[] {
  const list = events.flatMap((e) => applied(e) ?? []).sort((a, b) => a.createdMs - b.createdMs);
  const seen = new Set<string>();
  const out: DriftView[] = [];
  for (const a of list) {
    const at = appliedSeen.get(a.revision);
    const afterApplied = at !== undefined && a.createdMs > at + a.slackMs;
    if (seen.has(a.revision) || afterApplied)
      out.push({ time: a.first, revision: a.revision, objects: a.objects, count: 1 });
    // The recorder folds an identical change set into one Event: every repeat after the first was a correction.
    if (a.count > 1) out.push({ time: a.last, revision: a.revision, objects: a.objects, count: a.count - 1 });
    seen.add(a.revision);
  }
  return out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, maxDrift);
}
