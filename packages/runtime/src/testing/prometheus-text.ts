// Typed access to parse-prometheus-text-format (it ships no types) for tests that read /metrics.
import { createRequire } from "node:module";

export interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: PromSample[];
}

/** Parses Prometheus text exposition; throws on malformed input. */
export function parsePrometheusText(text: string): PromFamily[] {
  const require = createRequire(import.meta.url);
  const parse = require("parse-prometheus-text-format") as (t: string) => PromFamily[];
  return parse(text);
}

/** The value of the first sample of `name` whose labels include `labels`; undefined when absent. */
export function sampleValue(
  families: PromFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return undefined;
  return Number(sample.value ?? sample.count);
}

/**
 * The _count of a labelled histogram. parse-prometheus-text-format folds labelled histograms into one bucket map and
 * drops their labels, so this reads the `<name>_count{...}` line itself (after the parser has validated the text).
 */
export function histogramCount(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== `${name}_count`) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
