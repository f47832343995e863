// What the dashboard benchmark (main.ts) and its profiler (profile.ts) both stand on: the cluster given in
// CAPSTAN_BENCH_KUBECONFIG or a control plane of their own, a client, the toolkit CRDs, the objects (fixtures.ts),
// headless Chromium, and dashboard servers started from a build's dist; all stopped again when the run ends.
import type { ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { type ControlPlane, startControlPlane } from "@capstan/cluster";
import { KubeClient } from "@capstan/runtime";
// Relative imports: test-only helpers of other packages, run from source (ts-hooks).
import { ensureCrds } from "../../packages/api/src/testing/index.js";
import { type Browser, launchChromium } from "../../packages/dashboard/src/test/browser.js";
import { type Fixtures, fm, pool } from "./fixtures.js";
import { type Dashboard, startDashboard } from "./loads.js";

/** This checkout's built dashboard server. */
export const dashboardMain = resolve(import.meta.dirname, "../../packages/dashboard/dist/server/main.js");

export interface Bench {
  kubeconfig: string;
  client: KubeClient;
  browser: Browser;
  /**
   * Creates the fixtures' namespaces and objects. Against CAPSTAN_BENCH_KUBECONFIG, a cluster that already holds them
   * is reused, and the status of its first `changed` objects (those a last run wrote) put back as it was.
   */
  populate(fixtures: Fixtures, changed: number): Promise<void>;
  /** Starts a dashboard server from a build's main.js (stopped when the run ends, if not before). */
  startDashboard(main: string): Promise<Dashboard>;
}

/** Runs `fn` on the cluster, with a client and a browser; stops them, the servers and the control plane after. */
export async function withBench<T>(fn: (bench: Bench) => Promise<T>): Promise<T> {
  const given = process.env.CAPSTAN_BENCH_KUBECONFIG;
  const plane: ControlPlane | undefined = given ? undefined : await startControlPlane({ workloads: false });
  const kubeconfig = given ?? (plane as ControlPlane).kubeconfig;
  const client = new KubeClient({ kubeconfigPath: kubeconfig, qps: 0 });
  const servers: ChildProcess[] = [];
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    await ensureCrds(kubeconfig);
    return await fn({
      kubeconfig,
      client,
      browser,
      populate: async (fixtures, changed) => {
        const wrote = await fixtures.populate(client, given !== undefined);
        if (!wrote) {
          const ids = Array.from({ length: Math.min(changed, fixtures.objects) }, (_, i) => i);
          await pool(ids, 32, (i) => client.applyStatus(fixtures.initial(i), fm));
        }
      },
      startDashboard: async (main) => {
        const dashboard = await startDashboard(main, kubeconfig);
        servers.push(dashboard.process);
        return dashboard;
      },
    });
  } finally {
    await browser?.close();
    for (const server of servers) server.kill("SIGTERM");
    client.close();
    await plane?.stop();
  }
}
