// spec.decryption (provider sops). Before `kustomize build`, in the per-build scratch copy (removed after the build;
// the artifact cache is never written): the encrypted files that the build's secretGenerators and
// configMapGenerators read, and its encrypted YAML/JSON resource files. After the build, before postBuild
// substitution: any rendered object still carrying sops metadata. A failure is DecryptionFailed and fails the build,
// so nothing of the Kustomization is applied or pruned.
import { readFile, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { KustomizationReasons } from "@capstan/api";
import { decodeSecretData, ReconcileError, readSecret, SecretReadError } from "@capstan/runtime";
import { parse as parseYaml } from "yaml";
import type { Client, KubeObject } from "../kube.js";
import type { KustomizationObject } from "../kustomization/types.js";
import { fmtObject, isRecord } from "../object.js";
import { resolveRealInside } from "../render/paths.js";
import { formatOfPath, isSopsEncrypted } from "./format.js";
import { type DecryptionKeys, decryptionFailed, type Sops } from "./sops.js";

/** Bound on the kustomizations one build reaches (the artifact's extraction limits bound it already). */
const maxKustomizationFiles = 10_000;

/**
 * The keys of spec.decryption.secretRef: `*.agekey` values are age identities, `*.asc` armored OpenPGP keys. Cloud KMS
 * credentials (sops.aws-kms, sops.gcp-kms, sops.azure-kv, sops.vault-token) are not used. `client` is the
 * controller's own (as in Flux): a tenant's ServiceAccount needs no right to read the key, and never gets it.
 */
export async function loadDecryptionKeys(client: Client, obj: KustomizationObject): Promise<DecryptionKeys> {
  const decryption = obj.spec.decryption;
  if (decryption?.provider !== "sops")
    throw new ReconcileError(`decryption provider '${String(decryption?.provider)}' is not supported`, {
      reason: KustomizationReasons.DecryptionFailed,
    });
  const ref = decryption.secretRef;
  if (!ref) return { age: "", pgp: [] };
  const namespace = obj.metadata.namespace ?? "default";
  let data: Record<string, Buffer>;
  try {
    data = decodeSecretData((await readSecret(client, { namespace, name: ref.name }, "decryption")).data);
  } catch (err) {
    const message = err instanceof SecretReadError ? err.message : `failed to get decryption secret '${ref.name}'`;
    throw new ReconcileError(message, { reason: KustomizationReasons.DecryptionFailed, cause: err });
  }
  const age: string[] = [];
  const pgp: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (key.endsWith(".agekey")) age.push(value.toString("utf8").trim());
    else if (key.endsWith(".asc")) pgp.push(value.toString("utf8"));
  }
  return { age: age.join("\n"), pgp };
}

/** Paths (relative to the kustomization's directory) that a generator entry reads: `files` (`[key=]path`), `envs`, `env`. */
function generatorPaths(generator: unknown): string[] {
  if (!isRecord(generator)) return [];
  const out: string[] = [];
  for (const f of Array.isArray(generator.files) ? generator.files : []) {
    if (typeof f !== "string") continue;
    const eq = f.indexOf("=");
    out.push(eq >= 0 ? f.slice(eq + 1) : f);
  }
  for (const e of Array.isArray(generator.envs) ? generator.envs : []) if (typeof e === "string") out.push(e);
  if (typeof generator.env === "string") out.push(generator.env);
  return out;
}

const kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

async function kustomizationIn(dir: string): Promise<Record<string, unknown> | undefined> {
  for (const name of kustomizationNames) {
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    try {
      const doc: unknown = parseYaml(text, { maxAliasCount: 100 });
      return isRecord(doc) ? doc : undefined;
    } catch {
      return undefined; // kustomize reports a malformed kustomization itself
    }
  }
  return undefined;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * The files the build at `dir` reads that may be sops-encrypted: the resource files and the generator files of its
 * kustomization and of every kustomization it reaches (resources, components, bases), inside root only. Files of
 * overlays the build does not reach (another environment's, under another key) are left alone.
 */
async function reachableFiles(root: string, dir: string): Promise<{ resources: string[]; generated: string[] }> {
  const resources = new Set<string>();
  const generated = new Set<string>();
  const seen = new Set<string>();
  const visit = async (d: string): Promise<void> => {
    if (seen.has(d) || seen.size >= maxKustomizationFiles) return;
    seen.add(d);
    const k = await kustomizationIn(d);
    if (!k) return;
    const base = relative(root, d);
    for (const ref of [...strings(k.resources), ...strings(k.components), ...strings(k.bases)]) {
      const path = await resolveRealInside(root, join(base, ref));
      if (path === undefined) continue; // remote or outside: the build's guard refuses it
      const s = await stat(path).catch(() => undefined);
      if (s?.isDirectory()) await visit(path);
      else if (s?.isFile()) resources.add(path);
    }
    const generators = [
      ...(Array.isArray(k.secretGenerator) ? k.secretGenerator : []),
      ...(Array.isArray(k.configMapGenerator) ? k.configMapGenerator : []),
    ];
    for (const rel of generators.flatMap(generatorPaths)) {
      const path = await resolveRealInside(root, join(base, rel));
      if (path !== undefined) generated.add(path);
    }
  };
  await visit(dir);
  return { resources: [...resources], generated: [...generated] };
}

async function decryptInPlace(root: string, path: string, sops: Sops, keys: DecryptionKeys): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) return;
  const bytes = await readFile(path);
  const format = formatOfPath(path);
  if (!isSopsEncrypted(bytes, format)) return;
  await writeFile(path, await sops.decrypt(relative(root, path), bytes, format, keys));
}

/**
 * Decrypts, in place in the scratch copy at `root`, every sops-encrypted file the build at `dir` reads: the files
 * of its secretGenerators and configMapGenerators (as Flux does before the build), and its encrypted YAML and JSON
 * resource files. Flux decrypts those after the build; Capstan does it before because the kustomize CLI re-sorts
 * keys, and the SOPS MAC covers the values in their order: the outcome is the same objects. Files sops did not
 * encrypt are left as they are.
 */
export async function decryptSources(root: string, dir: string, sops: Sops, keys: DecryptionKeys): Promise<void> {
  const { resources, generated } = await reachableFiles(root, dir);
  for (const path of generated) await decryptInPlace(root, path, sops, keys);
  for (const path of resources) {
    const format = formatOfPath(path);
    if (format === "yaml" || format === "json") await decryptInPlace(root, path, sops, keys);
  }
}

/** Whether a rendered object carries sops metadata (a whole encrypted resource). */
export function isEncryptedObject(o: KubeObject): boolean {
  return isRecord(o.sops) && typeof o.sops.mac === "string";
}

/** The rendered objects with every sops-encrypted one decrypted (the same objects otherwise). */
export async function decryptObjects(objects: KubeObject[], sops: Sops, keys: DecryptionKeys): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const o of objects) {
    if (!isEncryptedObject(o)) {
      out.push(o);
      continue;
    }
    const what = fmtObject(o);
    const plain = await sops.decrypt(what, Buffer.from(JSON.stringify(o)), "json", keys);
    let parsed: unknown;
    try {
      parsed = JSON.parse(plain.toString("utf8"));
    } catch {
      throw decryptionFailed(what, "sops returned no JSON object");
    }
    if (!isRecord(parsed) || typeof parsed.kind !== "string") throw decryptionFailed(what, "not an object");
    out.push(parsed as KubeObject);
  }
  return out;
}
