// What every source benchmark shares: a GitRepository watcher (the runtime's informer, so timings come from watch
// events rather than polling), the controller process with a git shim in front of git, and small utilities.
import { readFile } from "node:fs/promises";
import { createInformer, getCondition, type KubeClient, type KubeObject } from "@capstan/runtime";
import type { GitRepositoryObject } from "../../packages/source-controller/src/gitrepository/state.js";

export const apiVersion = "source.toolkit.fluxcd.io/v1";

export interface Figure {
  group: string;
  name: string;
  value: string;
}

export class Report {
  readonly figures: Figure[] = [];
  record(group: string, name: string, value: string): void {
    this.figures.push({ group, name, value });
    process.stderr.write(`  [${group}] ${name}: ${value}\n`);
  }
  print(): void {
    const rows = this.figures.map((f) => `| ${f.group} | ${f.name} | ${f.value} |`);
    process.stdout.write(["| benchmark | measure | result |", "|---|---|---|", ...rows, ""].join("\n"));
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const millis = (ms: number) => `${ms.toFixed(0)} ms`;
export const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** VmHWM (peak resident set) and VmRSS of a process, in KiB, from /proc. */
export async function memoryOf(pid: number): Promise<{ peakKiB: number; rssKiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { peakKiB: field("VmHWM"), rssKiB: field("VmRSS") };
}

export const isReady = (o: GitRepositoryObject) => getCondition(o, "Ready")?.status === "True";

/**
 * Watches the GitRepositories of one namespace and resolves waits at the moment the watch event that satisfies them
 * arrives, so a latency is "push → status seen by a watcher", as a downstream controller would see it.
 */
export class Watcher {
  private readonly informer;
  private readonly waiters = new Set<() => void>();

  constructor(client: KubeClient, type: Parameters<typeof createInformer>[1], namespace: string) {
    this.informer = createInformer<GitRepositoryObject>(client, type, { namespace });
    const wake = () => {
      for (const w of [...this.waiters]) w();
    };
    this.informer.addHandlers({ onAdd: wake, onUpdate: wake, onDelete: wake });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): void {
    this.informer.stop();
  }

  list(): GitRepositoryObject[] {
    return this.informer.cache.list();
  }

  /** Resolves with performance.now() when `done` first holds for the cache. */
  until(done: (objects: GitRepositoryObject[]) => boolean, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.list())) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(performance.now());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits until one object satisfies `done`. */
  untilOne(name: string, done: (o: GitRepositoryObject) => boolean, timeoutMs: number): Promise<number> {
    return this.until(
      (all) => {
        const o = all.find((x) => x.metadata.name === name);
        return o !== undefined && done(o);
      },
      timeoutMs,
      name,
    );
  }
}

export function gitRepository(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): KubeObject & { spec: Record<string, unknown> } {
  return { apiVersion, kind: "GitRepository", metadata: { name, namespace }, spec };
}
