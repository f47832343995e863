// Alert matching, as Flux's event server does it: source (kind, name or pattern, namespace, matchLabels), severity,
// inclusion and exclusion regexes; then the Alert's metadata is merged into the notification.
import type { AlertSpec, CrossNamespaceObjectReference } from "@capstan/api";
import { EventAnnotationPrefix, type FluxEvent, MetaSummaryKey } from "../events/event.js";

export interface CompiledAlert {
  namespace: string;
  name: string;
  spec: AlertSpec;
  include: RegExp[];
  exclude: RegExp[];
}

export class InvalidRegexError extends Error {
  override readonly name = "InvalidRegexError";
}

/**
 * Go (RE2) patterns as JavaScript ones. The common difference is a leading flag group such as `(?i)`, which
 * JavaScript spells as a flag.
 */
export function compileGoRegex(pattern: string): RegExp {
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  let flags = "u";
  let body = pattern;
  if (lead) {
    body = pattern.slice(lead[0].length);
    for (const f of lead[1] as string) if ("ims".includes(f) && !flags.includes(f)) flags += f;
  }
  return new RegExp(body, flags);
}

/** Throws InvalidRegexError naming each bad pattern (the reconciler puts it in the Alert's Ready condition). */
export function compileAlert(alert: { namespace: string; name: string; spec: AlertSpec }): CompiledAlert {
  const bad: string[] = [];
  const compile = (list: string[] | undefined, which: string) =>
    (list ?? []).flatMap((p) => {
      try {
        return [compileGoRegex(p)];
      } catch {
        bad.push(`${which} '${p}'`);
        return [];
      }
    });
  const include = compile(alert.spec.inclusionList, "inclusionList");
  const exclude = compile(alert.spec.exclusionList, "exclusionList");
  if (bad.length > 0) throw new InvalidRegexError(`invalid regular expression(s): ${bad.join(", ")}`);
  return { namespace: alert.namespace, name: alert.name, spec: alert.spec, include, exclude };
}

function globMatch(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  if (!pattern.includes("*")) return pattern === name;
  const re = new RegExp(`^${pattern.split("*").map(escapeRegex).join(".*")}$`);
  return re.test(name);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface ObjectIdentity {
  kind: string;
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export function sourceMatches(
  alert: CompiledAlert,
  source: CrossNamespaceObjectReference,
  obj: ObjectIdentity,
): boolean {
  const namespace = source.namespace || alert.namespace;
  if ((obj.namespace ?? "") !== namespace || obj.kind !== source.kind) return false;
  if (source.name === "*" && source.matchLabels) {
    const labels = obj.labels ?? {};
    return Object.entries(source.matchLabels).every(([k, v]) => labels[k] === v);
  }
  return globMatch(source.name, obj.name);
}

/** Whether the Alert watches this object at all (before looking at any event). */
export function alertWatches(alert: CompiledAlert, obj: ObjectIdentity): boolean {
  return alert.spec.eventSources.some((s) => sourceMatches(alert, s, obj));
}

export function severityAccepted(alert: CompiledAlert, event: FluxEvent): boolean {
  const wanted = alert.spec.eventSeverity || "info";
  if (wanted === "info") return event.severity === "info" || event.severity === "error";
  return event.severity === wanted;
}

export function messageAccepted(alert: CompiledAlert, message: string): boolean {
  if (alert.include.length > 0 && !alert.include.some((r) => r.test(message))) return false;
  return !alert.exclude.some((r) => r.test(message));
}

export function alertAccepts(alert: CompiledAlert, event: FluxEvent, labels?: Record<string, string>): boolean {
  if (alert.spec.suspend) return false;
  const obj = { ...event.involvedObject, ...(labels ? { labels } : {}) };
  return alertWatches(alert, obj) && severityAccepted(alert, event) && messageAccepted(alert, event.message);
}

/**
 * The notification for one Alert, its metadata combined as Flux's notification-controller combines it (RFC-0008), from
 * lowest to highest precedence: the object's `event.toolkit.fluxcd.io/<key>` annotations (prefix stripped), the Alert's
 * eventMetadata, `summary` from spec.summary unless eventMetadata already has one, and the controller's own metadata
 * (e.g. `revision`), which an Alert or an annotation never overrides.
 */
export function notificationFor(alert: CompiledAlert, event: FluxEvent): FluxEvent {
  const fromObject: Record<string, string> = {};
  const fromController: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.metadata ?? {})) {
    if (key.startsWith(EventAnnotationPrefix)) fromObject[key.slice(EventAnnotationPrefix.length)] = value;
    else fromController[key] = value;
  }
  const metadata: Record<string, string> = { ...fromObject };
  if (alert.spec.summary) metadata[MetaSummaryKey] = alert.spec.summary;
  Object.assign(metadata, alert.spec.eventMetadata ?? {}, fromController);
  const { metadata: _raw, ...out } = event;
  return Object.keys(metadata).length > 0 ? { ...out, metadata } : out;
}
