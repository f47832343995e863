// Runs the pinned `kustomize build` binary and parses its multi-document output.
import { KustomizationReasons } from "@capstan/api";
import { ReconcileError } from "@capstan/runtime";
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../kube.js";
import { isRecord } from "../object.js";
import { countDocuments, largeSourceDocuments } from "./count.js";

export interface KustomizeOptions {
  /** Path of the kustomize binary. */
  binary: string;
  timeoutMs?: number;
  /** Upper bound on the rendered output, so a runaway build cannot exhaust memory. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** How the build path is named in messages (spec.path); the directory's base name by default. */
  label?: string;
  /** Runs a part of the build as a span of the reconcile trace: `kustomize` (the child process), `parse` (its output). */
  span?<R>(name: string, fn: () => Promise<R>): Promise<R>;
}

/**
 * Process groups of running builds. kustomize may start children of its own (plugins, git), so a build runs in its
 * own group and the whole group is killed: at its timeout, on cancel, and when this process exits for any reason
 * (the exit hook below; a SIGKILL of the controller is the one case only the container runtime covers). The
 * registry is process-wide by nature, as the exit of the process is.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Kills every running build's process group (exported for the exit hook's test). */
export function killAllBuilds(): void {
  for (const pid of liveGroups) killGroup(pid);
  liveGroups.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", killAllBuilds);
}

/** "1m", "1m30s", "45s", "1.5s", "500ms": how a Kustomization's spec.timeout reads. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = Math.round((ms % 60_000) / 1000);
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${sec ? `${sec}s` : ""}`;
}

/** `kustomize build dir --load-restrictor LoadRestrictionsNone`, with the network closed off. */
export async function kustomizeBuild(dir: string, options: KustomizeOptions): Promise<KubeObject[]> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  installExitHook();
  const subprocess = execa(options.binary, ["build", dir, "--load-restrictor", "LoadRestrictionsNone"], {
    maxBuffer: options.maxOutputBytes ?? 256 * 1024 * 1024,
    cwd: dir,
    // Its own process group, so that the group can be killed as a whole.
    detached: true,
    stdin: "ignore",
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
  const pid = subprocess.pid;
  if (pid !== undefined) liveGroups.add(pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (pid !== undefined) killGroup(pid);
  }, timeoutMs);
  const onAbort = () => {
    if (pid !== undefined) killGroup(pid);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const span = options.span ?? ((_name, fn) => fn());
  let stdout: string;
  try {
    stdout = (await span("kustomize", async () => await subprocess)).stdout;
  } catch (cause) {
    if (timedOut) throw await timeoutError(dir, timeoutMs, options.label, cause);
    if (options.signal?.aborted)
      throw new ReconcileError("kustomize build canceled", { reason: KustomizationReasons.BuildFailed, cause });
    const e = cause as { stderr?: string; shortMessage?: string };
    const detail = (e.stderr ?? "").trim() || e.shortMessage || String(cause);
    throw new ReconcileError(`kustomize build failed: ${detail.replaceAll(dir, ".")}`, {
      reason: KustomizationReasons.BuildFailed,
      cause,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // Whatever kustomize left behind in its group goes with it.
    if (pid !== undefined) {
      killGroup(pid);
      liveGroups.delete(pid);
    }
  }
  return span("parse", async () => parseManifests(stdout, "kustomize output"));
}

/**
 * kustomize's build time grows with the square of the documents it holds, so a timeout on a big source is a size
 * problem: say so, with the count (taken only now, bounded).
 */
async function timeoutError(dir: string, timeoutMs: number, label: string | undefined, cause: unknown) {
  const where = label ?? ".";
  const count = await countDocuments(dir);
  const docs = `${count.atLeast ? "at least " : ""}${count.documents.toLocaleString("en-US")} resource documents`;
  const message =
    count.documents >= largeSourceDocuments
      ? `kustomize build timed out after ${formatDuration(timeoutMs)}; the source holds ${docs} under ${where}, ` +
        "beyond what kustomize builds in that time; split it or raise spec.timeout"
      : `kustomize build timed out after ${formatDuration(timeoutMs)} (the source holds ${docs} under ${where}); ` +
        "raise spec.timeout";
  return new ReconcileError(message, { reason: KustomizationReasons.BuildFailed, cause });
}

/** Parses multi-document YAML into objects; empty documents are skipped, anything not an object is an error. */
export function parseManifests(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  let index = 0;
  for (const doc of parseAllDocuments(text)) {
    index++;
    if (doc.errors.length > 0)
      throw new ReconcileError(`${source}: document ${index}: ${doc.errors[0]?.message}`, {
        reason: KustomizationReasons.BuildFailed,
      });
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (
      !isRecord(value) ||
      typeof value.apiVersion !== "string" ||
      typeof value.kind !== "string" ||
      !isRecord(value.metadata) ||
      typeof value.metadata.name !== "string"
    ) {
      throw new ReconcileError(
        `${source}: document ${index} is not a Kubernetes object (apiVersion, kind, metadata.name)`,
        { reason: KustomizationReasons.BuildFailed },
      );
    }
    out.push(value as KubeObject);
  }
  return out;
}
