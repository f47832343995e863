// `<algorithm>:<hex>` digests as source-controller publishes them (sha256 by default).

import { createHash, type Hash } from "node:crypto";
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";

const algorithms: Record<string, string> = { sha256: "sha256", sha384: "sha384", sha512: "sha512" };

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

export function parseDigest(digest: string): ParsedDigest {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  if (!m || !algorithms[m[1]!])
    throw new ReconcileError(`unsupported artifact digest '${digest}'`, {
      reason: KustomizationReasons.ArtifactFailed,
    });
  return { algorithm: m[1]!, hex: m[2]! };
}

export function hasherFor(d: ParsedDigest): Hash {
  return createHash(algorithms[d.algorithm]!);
}
