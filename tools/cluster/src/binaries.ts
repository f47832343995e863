import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The directory of this package (tools/cluster), from either src/ or dist/. */
export const clusterPackageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const binaryNames = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "kwok",
  "kustomize",
  "helm",
  "sops",
  "age-keygen",
  "age",
  "registry",
  "oras",
] as const;
export type BinaryName = (typeof binaryNames)[number];

export interface Binaries {
  /** PATH fragment holding every pinned binary. */
  path: string;
  /** Absolute path of each binary. */
  bin: Record<BinaryName, string>;
}

let cached: Promise<Binaries> | undefined;

/**
 * Resolves the pinned binaries, building whatever the cache lacks with build-binaries.sh (the single place that knows
 * versions and cache keys). A warm cache answers in milliseconds; a cold build takes minutes.
 */
export function ensureBinaries(): Promise<Binaries> {
  cached ??= build();
  return cached;
}

async function build(): Promise<Binaries> {
  const script = join(clusterPackageDir, "build-binaries.sh");
  let stdout: string;
  try {
    ({ stdout } = await run("bash", [script], { maxBuffer: 16 * 1024 * 1024, timeout: 3_600_000 }));
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr ?? "";
    throw new Error(`build the control-plane binaries: ${stderr.trim().split("\n").slice(-20).join("\n")}`, { cause });
  }
  const path = stdout.trim().split("\n").at(-1) ?? "";
  const dirs = path.split(delimiter).filter(Boolean);
  const bin = {} as Record<BinaryName, string>;
  for (const name of binaryNames) {
    const found = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
    if (!found) throw new Error(`build the control-plane binaries: ${name} missing from ${path}`);
    bin[name] = found;
  }
  return { path, bin };
}

/** Tools built only on request (`build-binaries.sh <tool>`): long cold builds that only optional tests use. */
export type OptionalTool = "flux" | "sealed-secrets";

/**
 * The cached binary `binary` (the tool's name by default) of an optional tool, or undefined when it has not been built
 * yet (build it with `bash tools/cluster/build-binaries.sh <tool>`). Never builds: a cold build would outlast any
 * test's timeout.
 */
export async function cachedTool(tool: OptionalTool, binary: string = tool): Promise<string | undefined> {
  // build-binaries.sh knows the cache key of the checked-in go.mod; with CAPSTAN_ONLY_CACHED it only says where.
  try {
    const { stdout } = await run("bash", [join(clusterPackageDir, "build-binaries.sh"), tool], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000,
      env: { ...process.env, CAPSTAN_ONLY_CACHED: "1" },
    });
    const dir = (stdout.trim().split("\n").at(-1) ?? "").split(delimiter).find((d) => d.includes(`/${tool}-`));
    return dir && existsSync(join(dir, binary)) ? join(dir, binary) : undefined;
  } catch {
    return undefined;
  }
}
