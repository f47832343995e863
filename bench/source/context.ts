// The environment of one benchmark run: the control plane (own or CAPSTAN_BENCH_KUBECONFIG), the CRDs, one git
// smart-HTTP server, and source-controller processes started from dist/main.js with the chart's arguments.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createGitShim, type GitShim } from "@capstan/gitserver";
import type { KubeClient, ResourceType } from "@capstan/runtime";
import {
  type ControllerProcess,
  startControllerProcess,
} from "../../packages/source-controller/src/testing/process.js";
import { apiVersion, type Report, Watcher } from "./env.js";

export interface BenchController {
  process: ControllerProcess;
  shim: GitShim;
  stop(): Promise<void>;
}

export interface BenchContext {
  client: KubeClient;
  kubeconfig: string;
  report: Report;
  work: string;
  gitRoot: string;
  gitUrl: string;
  gitRepositoryType: ResourceType;
  /** A fresh namespace, labelled so that only this run's controllers take its objects. */
  namespace(prefix: string): Promise<string>;
  /** Objects of this run carry this label; controllers watch only them (other GitRepositories may share the cluster). */
  label: Record<string, string>;
  startController(name: string): Promise<BenchController>;
  watcher(namespace: string): Promise<Watcher>;
  /** Deletes the namespaces this run created. */
  dispose(): Promise<void>;
}

export async function createContext(o: {
  client: KubeClient;
  kubeconfig: string;
  report: Report;
  work: string;
  gitRoot: string;
  gitUrl: string;
  runId: string;
}): Promise<BenchContext> {
  const gitRepositoryType = await o.client.resourceFor(apiVersion, "GitRepository");
  const label = { "capstan.dev/bench": o.runId };
  const namespaces: string[] = [];
  return {
    ...o,
    gitRepositoryType,
    label,
    async namespace(prefix) {
      const name = `${prefix}-${o.runId}`;
      await o.client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
      namespaces.push(name);
      return name;
    },
    async startController(name) {
      const dir = join(o.work, "controllers", name);
      await mkdir(join(dir, "bin"), { recursive: true });
      await mkdir(join(dir, "storage"), { recursive: true });
      await mkdir(join(dir, "tmp"), { recursive: true });
      const shim = await createGitShim(join(dir, "bin"));
      const proc = await startControllerProcess({
        kubeconfig: o.kubeconfig,
        namespace: "default",
        storagePath: join(dir, "storage"),
        tmpDir: join(dir, "tmp"),
        pathPrefix: shim.binDir,
        podName: `source-controller-${name}`,
        extraArgs: [`--watch-label-selector=capstan.dev/bench=${o.runId}`],
      });
      await proc.ready();
      return {
        process: proc,
        shim,
        stop: async () => {
          const exit = await Promise.race([proc.terminate(), new Promise((r) => setTimeout(r, 30_000))]);
          if (!exit) await proc.kill();
        },
      };
    },
    async dispose() {
      for (const name of namespaces) {
        await o.client.delete({ apiVersion: "v1", kind: "Namespace", name }).catch(() => undefined);
      }
    },
    async watcher(namespace) {
      const w = new Watcher(o.client, gitRepositoryType, namespace);
      await w.start();
      return w;
    },
  };
}
