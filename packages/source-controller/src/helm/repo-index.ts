// A Helm repository index (index.yaml), read as Helm's repo.LoadIndex reads it: apiVersion required, entries without
// a valid SemVer version or without URLs skipped, each chart's versions sorted newest first. Version selection
// follows Flux's ChartRepository.GetChartVersion: an exact match first, then the highest version satisfying the
// range, where '' and '*' mean the latest stable version.
import semver from "semver";
import { parse } from "yaml";

export interface ChartVersionEntry {
  name: string;
  version: string;
  urls: string[];
  digest?: string;
  appVersion?: string;
  [field: string]: unknown;
}

export interface RepoIndex {
  apiVersion: string;
  generated?: string;
  entries: Record<string, ChartVersionEntry[]>;
  [field: string]: unknown;
}

export class IndexError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IndexError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses and validates index bytes. Aliases are bounded by the yaml library (no billion laughs). */
export function parseIndex(bytes: Buffer): RepoIndex {
  let doc: unknown;
  try {
    doc = parse(bytes.toString("utf8"), { maxAliasCount: 100, uniqueKeys: false });
  } catch (cause) {
    throw new IndexError(`error unmarshaling YAML: ${(cause as Error).message.split("\n")[0]}`, { cause });
  }
  if (!isObject(doc)) throw new IndexError("no API version specified");
  if (typeof doc.apiVersion !== "string" || doc.apiVersion === "") throw new IndexError("no API version specified");
  const entries: Record<string, ChartVersionEntry[]> = {};
  const raw = isObject(doc.entries) ? doc.entries : {};
  for (const [name, list] of Object.entries(raw)) {
    if (!Array.isArray(list)) continue;
    const valid = list.map((v: unknown) => entryOf(name, v)).filter((v): v is ChartVersionEntry => v !== undefined);
    valid.sort((a, b) => semver.rcompare(a.version, b.version, true));
    if (valid.length > 0) entries[name] = valid;
  }
  const out: RepoIndex = { apiVersion: doc.apiVersion, entries };
  if (typeof doc.generated === "string") out.generated = doc.generated;
  return out;
}

/** One version entry, or undefined when Helm would skip it (no SemVer version, no URL). */
function entryOf(name: string, v: unknown): ChartVersionEntry | undefined {
  if (!isObject(v) || typeof v.version !== "string" || !semver.valid(v.version, { loose: true })) return undefined;
  const urls = Array.isArray(v.urls) ? v.urls.filter((u): u is string => typeof u === "string") : [];
  if (urls.length === 0) return undefined;
  return { ...v, name: typeof v.name === "string" ? v.name : name, version: v.version, urls };
}

/** The version of `name` that `range` selects, or an error saying why none is. */
export function selectChartVersion(index: RepoIndex, name: string, range: string | undefined): ChartVersionEntry {
  const versions = index.entries[name];
  if (!versions) throw new IndexError(`no chart name found`);
  if (versions.length === 0) throw new IndexError(`no chart version found for ${name}`);
  const want = (range ?? "").trim();
  const exact = want ? versions.find((v) => v.version === want) : undefined;
  if (exact) return exact;
  const latestStable = want === "" || want === "*";
  let constraint: semver.Range;
  try {
    // Masterminds/semver (Helm's) separates AND-ed comparators with commas; node-semver with spaces.
    constraint = new semver.Range(latestStable ? "*" : want.replace(/\s*,\s*/g, " "), { loose: true });
  } catch (cause) {
    throw new IndexError(`improper constraint: ${want}`, { cause });
  }
  const match = versions.find((v) => semver.satisfies(v.version, constraint, { loose: true }));
  if (!match) throw new IndexError(`no '${name}' chart with version matching '${want}' found`);
  return match;
}
