// Runs the pinned `kustomize build` binary and parses its multi-document output.
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import { BuildError } from "../errors.js";
import type { KubeObject } from "../kube.js";
import { isRecord } from "../object.js";

export interface KustomizeOptions {
  /** Path of the kustomize binary. */
  binary: string;
  timeoutMs?: number;
  /** Upper bound on the rendered output, so a runaway build cannot exhaust memory. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

/** `kustomize build dir --load-restrictor LoadRestrictionsNone`, with the network closed off. */
export async function kustomizeBuild(dir: string, options: KustomizeOptions): Promise<KubeObject[]> {
  let stdout: string;
  try {
    const result = await execa(options.binary, ["build", dir, "--load-restrictor", "LoadRestrictionsNone"], {
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: options.maxOutputBytes ?? 256 * 1024 * 1024,
      cancelSignal: options.signal,
      cwd: dir,
      extendEnv: false,
      // Defence in depth behind guard.ts: any HTTP(S) or git fetch goes to a dead proxy.
      env: {
        PATH: "/usr/bin:/bin",
        HOME: dir,
        HTTP_PROXY: "http://127.0.0.1:9",
        HTTPS_PROXY: "http://127.0.0.1:9",
        NO_PROXY: "",
        GIT_TERMINAL_PROMPT: "0",
      },
      stripFinalNewline: false,
    });
    stdout = result.stdout;
  } catch (cause) {
    const e = cause as { timedOut?: boolean; stderr?: string; shortMessage?: string };
    if (e.timedOut)
      throw new BuildError(`kustomize build timed out after ${options.timeoutMs ?? 120_000}ms`, { cause });
    const detail = (e.stderr ?? "").trim() || e.shortMessage || String(cause);
    throw new BuildError(`kustomize build failed: ${detail.replaceAll(dir, ".")}`, { cause });
  }
  return parseManifests(stdout, "kustomize output");
}

/** Parses multi-document YAML into objects; empty documents are skipped, anything not an object is an error. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  let index = 0;
  for (const doc of parseAllDocuments(text)) {
    index++;
    if (doc.errors.length > 0) throw new BuildError(`${source}: document ${index}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (
      !isRecord(value) ||
      typeof value.apiVersion !== "string" ||
      typeof value.kind !== "string" ||
      !isRecord(value.metadata) ||
      typeof value.metadata.name !== "string"
    ) {
      throw new BuildError(`${source}: document ${index} is not a Kubernetes object (apiVersion, kind, metadata.name)`);
    }
    out.push(value as KubeObject);
  }
  return out;
}
