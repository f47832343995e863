// Drift detection as fluxcd/pkg/ssa: an object has drifted when the server-side dry-run of the desired state differs
// from the live object in labels, annotations or anything outside metadata and status. Ignore rules (RFC 6901 JSON
// pointers with an optional target selector) take fields out of the comparison.
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../kube.js";
import { clone, isRecord } from "../object.js";
import { matchesSelector, type Selector } from "./selector.js";

export interface IgnoreRule {
  paths: string[];
  target?: Selector;
}

function unescapeToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** Removes the value at an RFC 6901 pointer, if present. */
export function removePointer(doc: unknown, pointer: string): void {
  if (pointer === "" || !pointer.startsWith("/")) return;
  const tokens = pointer.slice(1).split("/").map(unescapeToken);
  let node: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isRecord(node)) node = node[token];
    else return;
  }
  const last = tokens.at(-1)!;
  if (Array.isArray(node)) {
    const i = Number(last);
    if (Number.isInteger(i) && i >= 0 && i < node.length) node.splice(i, 1);
  } else if (isRecord(node)) delete node[last];
}

export function ignoredPaths(obj: KubeObject, rules: readonly IgnoreRule[] | undefined): string[] {
  return (rules ?? []).filter((r) => matchesSelector(obj, r.target)).flatMap((r) => r.paths);
}

function comparable(obj: KubeObject, paths: readonly string[]): unknown {
  const c = clone(obj) as Record<string, unknown> & KubeObject;
  for (const p of paths) removePointer(c, p);
  const labels = c.metadata?.labels ?? {};
  const annotations = c.metadata?.annotations ?? {};
  delete (c as Record<string, unknown>).metadata;
  delete (c as Record<string, unknown>).status;
  return { body: c, labels, annotations };
}

export function hasDrifted(
  existing: KubeObject | undefined,
  dryRun: KubeObject,
  rules?: readonly IgnoreRule[],
): boolean {
  if (!existing || !dryRun.metadata.resourceVersion) return true;
  const paths = ignoredPaths(dryRun, rules);
  return !isDeepStrictEqual(comparable(existing, paths), comparable(dryRun, paths));
}
