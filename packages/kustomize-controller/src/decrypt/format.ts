// What SOPS file a byte string is, read without decrypting anything: its format (from the file name, as sops picks
// its store), whether sops encrypted it (its metadata and MAC are there), and which kinds of recipient it names, so
// that a file only a cloud KMS or OpenPGP can open is refused with a clear message before sops is run at all (sops
// would otherwise try to reach the KMS over the network).
import { parse as parseYaml } from "yaml";
import { isRecord } from "../object.js";

export type SopsFormat = "yaml" | "json" | "dotenv" | "ini" | "binary";

/** sops's own choice of store by extension; anything else is its binary store (a JSON wrapper). */
export function formatOfPath(path: string): SopsFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".env")) return "dotenv";
  if (lower.endsWith(".ini")) return "ini";
  return "binary";
}

export interface SopsRecipients {
  age: boolean;
  pgp: boolean;
  /** Cloud KMS kinds named (kms, gcp_kms, azure_kv, hc_vault). */
  kms: string[];
}

const kmsKinds = ["kms", "gcp_kms", "azure_kv", "hc_vault"] as const;

function structured(text: string, format: "yaml" | "json" | "binary"): unknown {
  try {
    return format === "yaml" ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether sops encrypted this content (its metadata with a MAC is present). */
export function isSopsEncrypted(bytes: Buffer, format: SopsFormat): boolean {
  const text = bytes.toString("utf8");
  switch (format) {
    case "dotenv":
      return /^sops_mac=/m.test(text);
    case "ini":
      return /^\[sops\]/m.test(text) && /^mac\s*=/m.test(text);
    default: {
      if (!text.includes("sops")) return false;
      const doc = structured(text, format);
      return isRecord(doc) && isRecord(doc.sops) && typeof doc.sops.mac === "string";
    }
  }
}

/** The kinds of recipient an encrypted file names (read from its metadata text, in any of the formats). */
export function recipientsOf(bytes: Buffer): SopsRecipients {
  const text = bytes.toString("utf8");
  const age = /age1[02-9ac-hj-np-z]{58}/.test(text);
  const pgp = /(^|[\s"_{,])fp"?\s*[:=]\s*"?[0-9A-Fa-f]{16,}/m.test(text);
  const kms = kmsKinds.filter((k) => new RegExp(`(^|[\\s"{,]|sops_|__)${k}("?\\s*:|__list|\\s*=)`, "m").test(text));
  return { age, pgp, kms };
}
