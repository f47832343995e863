// spec.valuesFrom and spec.values, composed as Flux's composeValues does: each reference in order (a ConfigMap's or
// Secret's key parsed as YAML and merged, or set at targetPath), then spec.values merged over them all. Values that
// came from Secrets are collected so that no message shows them.
import type { Client, KubeObject } from "@capstan/runtime";
import { parse } from "yaml";
import { isPlainObject, mergeValues, type Values } from "./merge.js";
import { setAtPath, TargetPathError, typedValue } from "./target-path.js";

export interface ValuesReference {
  kind: "Secret" | "ConfigMap";
  name: string;
  valuesKey?: string;
  targetPath?: string;
  optional?: boolean;
  literal?: boolean;
}

export interface ComposedValues {
  values: Values;
  /** Every string that came from a Secret (whole keys and each string leaf): never shown in a message. */
  secrets: string[];
}

/** A reference that cannot be resolved; the message names the object and key, never a value. */
export class ValuesError extends Error {}

/** Largest values document read from one key. */
const maxValuesBytes = 4 * 1024 * 1024;

function stringLeaves(v: unknown, out: string[]): void {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringLeaves(x, out);
  else if (isPlainObject(v)) for (const x of Object.values(v)) stringLeaves(x, out);
}

async function readKey(
  client: Client,
  namespace: string,
  ref: ValuesReference,
): Promise<{ text: string } | { missing: string }> {
  const key = ref.valuesKey || "values.yaml";
  const obj = await client.get<KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }>({
    apiVersion: "v1",
    kind: ref.kind,
    name: ref.name,
    namespace,
  });
  const id = `${ref.kind} '${namespace}/${ref.name}'`;
  if (!obj) return { missing: `could not find ${id}` };
  let text: string | undefined;
  if (ref.kind === "Secret") {
    const data = obj.data?.[key];
    text = data === undefined ? undefined : Buffer.from(data, "base64").toString("utf8");
  } else {
    text =
      obj.data?.[key] ?? (obj.binaryData?.[key] ? Buffer.from(obj.binaryData[key], "base64").toString() : undefined);
  }
  if (text === undefined) return { missing: `missing key '${key}' in ${id}` };
  return { text };
}

/** Applies one reference to `values` (in place for targetPath); returns the merged values. */
function applyReference(values: Values, ref: ValuesReference, id: string, text: string, secrets: string[]): Values {
  const key = ref.valuesKey || "values.yaml";
  if (text.length > maxValuesBytes)
    throw new ValuesError(`key '${key}' in ${id} is larger than ${maxValuesBytes} bytes`);
  if (ref.kind === "Secret") secrets.push(text.trim(), text);
  if (ref.targetPath) {
    try {
      setAtPath(values, ref.targetPath, ref.literal ? text : typedValue(text));
    } catch (err) {
      if (err instanceof TargetPathError) throw new ValuesError(`${err.message} (from ${id})`);
      throw err;
    }
    return values;
  }
  let parsed: unknown;
  try {
    parsed = parse(text, { maxAliasCount: 100 }) ?? {};
  } catch {
    // The parser's message may quote the document: only say where.
    throw new ValuesError(`unable to read values from key '${key}' in ${id}: not valid YAML`);
  }
  if (!isPlainObject(parsed)) throw new ValuesError(`values in key '${key}' of ${id} are not a map`);
  if (ref.kind === "Secret") stringLeaves(parsed, secrets);
  return mergeValues(values, parsed);
}

export async function composeValues(
  client: Client,
  namespace: string,
  refs: readonly ValuesReference[],
  inline: unknown,
): Promise<ComposedValues> {
  let values: Values = {};
  const secrets: string[] = [];
  for (const ref of refs) {
    const got = await readKey(client, namespace, ref);
    if ("missing" in got) {
      if (ref.optional) continue;
      throw new ValuesError(got.missing);
    }
    values = applyReference(values, ref, `${ref.kind} '${namespace}/${ref.name}'`, got.text, secrets);
  }
  if (inline !== undefined && inline !== null) {
    if (!isPlainObject(inline)) throw new ValuesError("spec.values is not a map");
    values = mergeValues(values, inline);
  }
  return { values, secrets: secrets.filter((s) => s.length > 0) };
}
