// Structural comparison of two CustomResourceDefinitions: Capstan's against Flux's published one. Descriptions are
// left out (Capstan writes its own); everything the apiserver acts on is compared: names, scope, served and storage
// versions, subresources, printer columns and, keyword by keyword, the whole openAPIV3Schema. Each difference is one
// stable line, so a test can hold the list of deliberate ones and fail on anything else.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface CrdDocument {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: JsonObject;
    versions: (JsonObject & { name: string; schema?: { openAPIV3Schema?: JsonObject } })[];
  };
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON with object keys sorted and descriptions dropped: equal text means equal meaning to the apiserver. */
export function canonical(v: unknown): string {
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(strip);
    if (!isObject(x)) return x;
    return Object.fromEntries(
      Object.keys(x)
        .filter((k) => k !== "description")
        .sort()
        .map((k) => [k, strip(x[k])]),
    );
  };
  return JSON.stringify(strip(v)) ?? "undefined";
}

function show(v: unknown): string {
  return v === undefined ? "unset" : canonical(v);
}

/** "+x" for each value only Capstan has, "-x" for each value only Flux has; "order" when only the order differs. */
function listDiff(capstan: unknown, flux: unknown): string[] {
  const a = Array.isArray(capstan) ? capstan.map(canonical) : [];
  const b = Array.isArray(flux) ? flux.map(canonical) : [];
  const out = [
    ...a.filter((x) => !b.includes(x)).map((x) => `+${x}`),
    ...b.filter((x) => !a.includes(x)).map((x) => `-${x}`),
  ];
  if (out.length === 0 && a.join() !== b.join()) out.push("order");
  return out;
}

function setDiff(capstan: unknown, flux: unknown): string[] {
  return listDiff(capstan, flux).filter((d) => d !== "order");
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** CEL rules are matched by their rule text; for each rule both sides have, every other field is compared. */
function validationsDiff(path: string, capstan: unknown, flux: unknown, out: string[]): void {
  const byRule = (v: unknown) =>
    new Map((Array.isArray(v) ? v.filter(isObject) : []).map((r) => [String(r.rule), r] as const));
  const a = byRule(capstan);
  const b = byRule(flux);
  for (const [rule, r] of a) {
    const other = b.get(rule);
    if (!other) out.push(`${path} x-kubernetes-validations: +${JSON.stringify(rule)}`);
    else if (canonical(r) !== canonical(other)) {
      out.push(`${path} x-kubernetes-validations ${JSON.stringify(rule)}: capstan=${show(r)} flux=${show(other)}`);
    }
  }
  for (const rule of b.keys()) {
    if (!a.has(rule)) out.push(`${path} x-kubernetes-validations: -${JSON.stringify(rule)}`);
  }
}

function keys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function propertiesDiff(path: string, a: JsonObject, b: JsonObject, out: string[]): void {
  for (const name of keys(a, b)) {
    const x = a[name];
    const y = b[name];
    if (!isObject(y)) out.push(`${join(path, name)}: only in Capstan`);
    else if (!isObject(x)) out.push(`${join(path, name)}: missing (Flux has it)`);
    else schemaDiff(join(path, name), x, y, out);
  }
}

/** One keyword of a schema node; the nested-schema keywords recurse, the others compare by meaning. */
function keywordDiff(path: string, key: string, a: Json | undefined, b: Json | undefined, out: string[]): void {
  const at = path || "(root)";
  if (key === "properties" && isObject(a) && isObject(b)) propertiesDiff(path, a, b, out);
  else if (key === "items" && isObject(a) && isObject(b)) schemaDiff(`${path}[]`, a, b, out);
  else if (key === "additionalProperties" && isObject(a) && isObject(b)) schemaDiff(`${path}{}`, a, b, out);
  else if (key === "enum") for (const d of listDiff(a, b)) out.push(`${at} enum: ${d}`);
  else if (key === "required") for (const d of setDiff(a, b)) out.push(`${at} required: ${d}`);
  else if (key === "x-kubernetes-validations") validationsDiff(at, a, b, out);
  else if (canonical(a) !== canonical(b)) out.push(`${at} ${key}: capstan=${show(a)} flux=${show(b)}`);
}

/** Compares two schema nodes keyword by keyword; `path` names the node as a field path (spec.foo[].bar). */
export function schemaDiff(path: string, capstan: JsonObject, flux: JsonObject, out: string[] = []): string[] {
  for (const key of keys(capstan, flux)) {
    if (key !== "description") keywordDiff(path, key, capstan[key], flux[key], out);
  }
  return out;
}

function namesDiff(capstan: JsonObject, flux: JsonObject, out: string[]): void {
  for (const key of keys(capstan, flux)) {
    const a = capstan[key];
    const b = flux[key];
    if (key === "categories" || key === "shortNames") {
      for (const d of setDiff(a, b)) out.push(`names.${key}: ${d}`);
    } else if (canonical(a) !== canonical(b)) {
      out.push(`names.${key}: capstan=${show(a)} flux=${show(b)}`);
    }
  }
}

type Version = CrdDocument["spec"]["versions"][number];

const serving = (v: Version) => `${v.served ? "served" : "not served"}${v.storage ? ", storage" : ""}`;

/** A version both serve: every field of the version (printer columns, subresources, ...), then the schema. */
function versionDiff(capstan: Version, flux: Version, out: string[]): void {
  const { schema: a, ...restA } = capstan;
  const { schema: b, ...restB } = flux;
  for (const key of keys(restA, restB)) {
    if (canonical(restA[key]) !== canonical(restB[key])) {
      out.push(`version ${flux.name} ${key}: capstan=${show(restA[key])} flux=${show(restB[key])}`);
    }
  }
  for (const d of schemaDiff("", a?.openAPIV3Schema ?? {}, b?.openAPIV3Schema ?? {})) out.push(`${flux.name} ${d}`);
}

/** Every difference between Capstan's CRD and Flux's, one line each; empty when they are the same API. */
export function crdDiff(capstan: CrdDocument, flux: CrdDocument): string[] {
  const out: string[] = [];
  if (capstan.metadata.name !== flux.metadata.name) {
    out.push(`metadata.name: capstan=${capstan.metadata.name} flux=${flux.metadata.name}`);
  }
  for (const key of ["group", "scope"] as const) {
    if (capstan.spec[key] !== flux.spec[key]) out.push(`${key}: capstan=${capstan.spec[key]} flux=${flux.spec[key]}`);
  }
  namesDiff(capstan.spec.names, flux.spec.names, out);
  for (const v of capstan.spec.versions) {
    if (!flux.spec.versions.some((f) => f.name === v.name)) {
      out.push(`version ${v.name}: only in Capstan (${serving(v)})`);
    }
  }
  for (const f of flux.spec.versions) {
    const v = capstan.spec.versions.find((c) => c.name === f.name);
    if (v) versionDiff(v, f, out);
    else out.push(`version ${f.name}: missing (Flux: ${serving(f)})`);
  }
  return out;
}
