// A Helm chart held in memory: its files (paths relative to the chart directory) and Chart.yaml. Loading checks what
// Helm's loader checks (Chart.yaml present, apiVersion, name, SemVer version); packaging writes `<name>/<path>`
// entries the way `helm package` lays them out. Values files are merged as Flux merges them (Helm's MergeMaps: maps
// merge recursively, anything else is replaced), and the version is rewritten in Chart.yaml, never by running
// anything from the chart.
import { posix } from "node:path";
import ignore from "ignore";
import semver from "semver";
import { parse, parseDocument, stringify } from "yaml";
import { readTarGz, type TarLimits, writeTarGz } from "./archive.js";

export interface ChartDependency {
  name: string;
  version?: string;
  repository?: string;
  alias?: string;
}

export interface Chart {
  name: string;
  version: string;
  /** Files by path relative to the chart directory (Chart.yaml included). */
  files: Map<string, Buffer>;
  dependencies: ChartDependency[];
}

export class ChartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChartError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseYaml(bytes: Buffer, what: string): unknown {
  try {
    return parse(bytes.toString("utf8"), { maxAliasCount: 100 });
  } catch (cause) {
    throw new ChartError(`${what}: ${(cause as Error).message.split("\n")[0]}`, { cause });
  }
}

/** Validates Chart.yaml and builds the chart from its files. */
export function chartFromFiles(files: Map<string, Buffer>): Chart {
  const meta = files.get("Chart.yaml");
  if (!meta) throw new ChartError("Chart.yaml file is missing");
  const doc = parseYaml(meta, "cannot load Chart.yaml");
  if (!isObject(doc)) throw new ChartError("cannot load Chart.yaml: not a YAML map");
  if (typeof doc.apiVersion !== "string" || !doc.apiVersion) {
    throw new ChartError("validation: chart.metadata.apiVersion is required");
  }
  if (typeof doc.name !== "string" || !doc.name) throw new ChartError("validation: chart.metadata.name is required");
  if (doc.name.includes("/") || doc.name.includes("\\") || doc.name === "." || doc.name === "..") {
    throw new ChartError(`validation: chart.metadata.name "${doc.name}" is invalid`);
  }
  const version = typeof doc.version === "number" ? String(doc.version) : doc.version;
  if (typeof version !== "string" || !version) throw new ChartError("validation: chart.metadata.version is required");
  if (!semver.valid(version, { loose: true })) {
    throw new ChartError(`validation: chart.metadata.version "${version}" is invalid`);
  }
  return { name: doc.name, version, files, dependencies: readDependencies(doc.dependencies) };
}

function readDependencies(list: unknown): ChartDependency[] {
  const dependencies: ChartDependency[] = [];
  if (!Array.isArray(list)) return dependencies;
  for (const d of list) {
    if (!isObject(d) || typeof d.name !== "string") continue;
    const dep: ChartDependency = { name: d.name };
    if (typeof d.version === "string") dep.version = d.version;
    if (typeof d.repository === "string") dep.repository = d.repository;
    if (typeof d.alias === "string") dep.alias = d.alias;
    dependencies.push(dep);
  }
  return dependencies;
}

/** Loads a chart package: every entry's first path component (the chart directory) is stripped, as Helm does. */
export async function loadChartArchive(bytes: Buffer, limits: TarLimits): Promise<Chart> {
  const raw = await readTarGz(bytes, limits);
  const files = new Map<string, Buffer>();
  for (const [name, content] of raw) {
    const rest = name.split("/").slice(1).join("/");
    if (rest) files.set(rest, content);
  }
  return chartFromFiles(files);
}

/** The files of the directory `dir` of a source (paths relative to it), without what its .helmignore excludes. */
export function chartFilesFromSource(source: ReadonlyMap<string, Buffer>, dir: string): Map<string, Buffer> {
  const prefix = dir === "" ? "" : `${dir}/`;
  const files = new Map<string, Buffer>();
  for (const [path, content] of source) {
    if (path.startsWith(prefix)) files.set(path.slice(prefix.length), content);
  }
  const helmignore = files.get(".helmignore");
  if (helmignore) {
    const ig = ignore().add(helmignore.toString("utf8"));
    for (const path of [...files.keys()]) {
      if (path !== "Chart.yaml" && ig.ignores(path)) files.delete(path);
    }
  }
  return files;
}

/** Rewrites Chart.yaml's version (keeping the rest of the document as written). */
export function setChartVersion(chart: Chart, version: string): Chart {
  const meta = chart.files.get("Chart.yaml");
  if (!meta) throw new ChartError("Chart.yaml file is missing");
  const doc = parseDocument(meta.toString("utf8"));
  doc.set("version", version);
  const files = new Map(chart.files);
  files.set("Chart.yaml", Buffer.from(doc.toString()));
  return { ...chart, version, files };
}

/** Helm's MergeMaps: b's keys win; where both hold maps, they merge recursively. */
export function mergeMaps(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const current = out[k];
    out[k] = isObject(v) && isObject(current) ? mergeMaps(current, v) : v;
  }
  return out;
}

/** Parses one values file: empty is an empty map; anything but a map is an error. */
export function parseValues(bytes: Buffer, path: string): Record<string, unknown> {
  const doc = parseYaml(bytes, `unmarshaling values from '${path}' failed`);
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new ChartError(`unmarshaling values from '${path}' failed: not a YAML map`);
  return doc;
}

/** Replaces values.yaml with the merged values (keys sorted, as Go's YAML marshalling writes them). */
export function setChartValues(chart: Chart, values: Record<string, unknown>): Chart {
  const files = new Map(chart.files);
  files.set("values.yaml", Buffer.from(stringify(values, { sortMapEntries: true })));
  return { ...chart, files };
}

/** Adds a dependency chart under charts/<name>/ (how `helm package` stores a resolved local dependency). */
export function addDependency(chart: Chart, dep: Chart, as: string): Chart {
  const files = new Map(chart.files);
  for (const [path, content] of dep.files) files.set(posix.join("charts", as, path), content);
  return { ...chart, files };
}

/** Packages the chart as `helm package` does: a tar.gz of `<name>/<path>` entries. */
export function packageChart(chart: Chart): Promise<Buffer> {
  const entries = new Map<string, Buffer>();
  for (const [path, content] of chart.files) entries.set(`${chart.name}/${path}`, content);
  return writeTarGz(entries);
}
