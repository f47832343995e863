// What the dashboard benchmark and its profiler put in the cluster: `objects` Kustomizations over `namespaces`
// namespaces, 10 inventory entries each, one in fifty failing (so that the overview has something to put first).
import { readFileSync } from "node:fs";
import type { KubeClient } from "@capstan/runtime";

export const fm = { fieldManager: "bench-dashboard", force: true };
/** The flags (node:util parseArgs) both scripts take for the objects: one default, so a profile reuses the bench's. */
export const fixtureFlags = {
  objects: { type: "string", default: "5000" },
  namespaces: { type: "string", default: "50" },
} as const;
export const rev = (n: number) => `main@sha1:${n.toString(16).padStart(40, "0")}`;
const kustomizations = {
  group: "kustomize.toolkit.fluxcd.io",
  version: "v1",
  kind: "Kustomization",
  plural: "kustomizations",
  namespaced: true,
};

export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

export function pct(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

/** RSS (MiB) and CPU time (s) of a process, from /proc. */
export function usage(pid: number): { rssMiB: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: rss, cpuS: ticks / 100 };
}

export class Fixtures {
  constructor(
    readonly objects: number,
    readonly namespaces: number,
  ) {}

  ns = (i: number) => `bench-dash-${i % this.namespaces}`;
  ksName = (i: number) => `app-${i}`;

  ready(i: number, message: string, status: "True" | "False" = "True") {
    const ns = this.ns(i);
    const name = this.ksName(i);
    return {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name, namespace: ns },
      status: {
        observedGeneration: 1,
        lastAppliedRevision: rev(1),
        lastAttemptedRevision: rev(1),
        inventory: {
          entries: Array.from({ length: 10 }, (_, k) => ({ id: `${ns}_${name}-${k}__ConfigMap`, v: "v1" })),
        },
        conditions: [
          {
            type: "Ready",
            status,
            reason: status === "True" ? "ReconciliationSucceeded" : "ReconciliationFailed",
            message,
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            observedGeneration: 1,
          },
        ],
      },
    };
  }

  /** The initial state of object i: Ready, or failing for one in fifty. */
  initial(i: number) {
    return i % 50 === 0 ? this.ready(i, `dry-run failed for app ${i}`, "False") : this.ready(i, "Applied");
  }

  /**
   * Creates the namespaces and Kustomizations (spec, then status). With `reuse`, a cluster that already holds that
   * many Kustomizations in the bench's namespaces is left as it is (a second run against CAPSTAN_BENCH_KUBECONFIG).
   * Returns whether it wrote anything.
   */
  async populate(client: KubeClient, reuse = false): Promise<boolean> {
    if (reuse) {
      const { items } = await client.list(kustomizations);
      const ours = items.filter((o) => o.metadata.namespace?.startsWith("bench-dash-"));
      if (ours.length === this.objects) return false;
    }
    for (let n = 0; n < this.namespaces; n++) {
      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: `bench-dash-${n}` } }, fm);
    }
    await pool(
      Array.from({ length: this.objects }, (_, i) => i),
      32,
      async (i) => {
        await client.apply(
          {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: this.ksName(i), namespace: this.ns(i) },
            spec: {
              interval: "10m",
              prune: true,
              path: `./apps/${i}`,
              sourceRef: { kind: "GitRepository", name: "repo" },
            },
          },
          fm,
        );
        await client.applyStatus(this.initial(i), fm);
      },
    );
    return true;
  }
}
