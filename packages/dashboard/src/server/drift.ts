// Drift history from Events. kustomize-controller records each apply's change set as a Normal `Progressing` Event
// ("ConfigMap/team/settings configured", one line per changed object) with the source revision in the
// `kustomize.toolkit.fluxcd.io/revision` annotation, as Flux's does. A change set applied at a revision that was
// already applied before means the cluster had moved away from Git and was put back: objects changed (configured) or
// deleted (created again) by hand, then reverted. A revision counts as applied before an Event when an earlier
// change set of it was recorded, or when the dashboard saw it as status.lastAppliedRevision more than a second before
// the Event (a revision's first apply records its change set before the status says it is applied). The apiserver
// keeps Events for an hour by default, so this is the recent history, not an audit log.
import type { DriftView } from "../shared/types.js";
import { clip, type Obj } from "./model.js";

const revisionAnnotation = "kustomize.toolkit.fluxcd.io/revision";
const changeLine = /^(\S+\/\S+) (configured|created)$/;
const maxDrift = 50;
const maxObjects = 50;

interface Applied {
  revision: string;
  first: string;
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
  return { revision: clip(revision, 256), first, last, count, objects };
}

/** Before an Event at a revision the dashboard saw applied, by this much, it came from a later pass. */
const appliedSlackMs = 1_000;

/**
 * The drift corrections the Events of one Kustomization show, newest first. `appliedSeen` maps a revision to when the
 * dashboard first saw it as the Kustomization's lastAppliedRevision (ms since the epoch).
 */
export function driftHistory(events: Obj[], appliedSeen: ReadonlyMap<string, number> = new Map()): DriftView[] {
  const list = events
    .flatMap((e) => applied(e) ?? [])
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const seen = new Set<string>();
  const out: DriftView[] = [];
  for (const a of list) {
    const at = appliedSeen.get(a.revision);
    const afterApplied = at !== undefined && Date.parse(a.first) >= at + appliedSlackMs;
    if (seen.has(a.revision) || afterApplied)
      out.push({ time: a.first, revision: a.revision, objects: a.objects, count: 1 });
    // The recorder folds an identical change set into one Event: every repeat after the first was a correction.
    if (a.count > 1) out.push({ time: a.last, revision: a.revision, objects: a.objects, count: a.count - 1 });
    seen.add(a.revision);
  }
  return out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, maxDrift);
}
