// The pure parts of bench/peer's sharding: app → shard assignment, the selectors (Flux's documented ones and the args
// of the charts as helm renders them), the idle-CPU arithmetic, the per-process table and the stray-reconcile check.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  chartArgs,
  cpuPercentOfCore,
  fluxSelectorArgs,
  formatValue,
  loggedNames,
  type ProcessFigures,
  processesOf,
  processLabel,
  processRows,
  reconciledNames,
  shardNames,
  shardOfApp,
  strayReconciles,
} from "../peer/shards.js";
import { chartEnv, entrypointNodeArgs, imageNodeArgs, kcmArgs } from "../peer/sides.js";
import { appsYaml, ReadyCount } from "../peer/workload.js";

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, "..", "..");

describe("app → shard", () => {
  it("should name K shards shard1 … shardK and refuse a bad K", () => {
    expect(shardNames(0)).toEqual([]);
    expect(shardNames(3)).toEqual(["shard1", "shard2", "shard3"]);
    expect(() => shardNames(-1)).toThrow(/non-negative integer/);
    expect(() => shardNames(1.5)).toThrow(/non-negative integer/);
  });

  it("should assign apps round-robin, each shard its share", () => {
    expect([0, 1, 2, 3, 4].map((i) => shardOfApp(i, 2))).toEqual(["shard1", "shard2", "shard1", "shard2", "shard1"]);
    expect(shardOfApp(7, 0)).toBeUndefined();
    const counts = new Map<string | undefined, number>();
    for (let i = 0; i < 10_000; i++) counts.set(shardOfApp(i, 3), (counts.get(shardOfApp(i, 3)) ?? 0) + 1);
    expect([...counts.values()]).toEqual([3334, 3333, 3333]);
  });

  it("should label an app's GitRepository and Kustomization alike, and nothing without shards", () => {
    const docs = (yaml: string) =>
      parseAllDocuments(yaml).map(
        (d) => d.toJS() as { kind: string; metadata: { name: string; labels?: Record<string, string> } },
      );
    const sharded = docs(appsYaml(3, "http://git/app.git", "1.0.0", 2));
    expect(sharded.map((d) => [d.kind, d.metadata.name, d.metadata.labels?.["sharding.fluxcd.io/key"]])).toEqual([
      ["GitRepository", "app-0", "shard1"],
      ["Kustomization", "app-0", "shard1"],
      ["GitRepository", "app-1", "shard2"],
      ["Kustomization", "app-1", "shard2"],
      ["GitRepository", "app-2", "shard1"],
      ["Kustomization", "app-2", "shard1"],
    ]);
    expect(docs(appsYaml(2, "http://git/app.git", "1.0.0")).every((d) => d.metadata.labels === undefined)).toBe(true);
  });
});

describe("selectors", () => {
  it("should give Flux's documented sharding flags", () => {
    expect(fluxSelectorArgs(undefined, 0)).toEqual([]);
    expect(fluxSelectorArgs(undefined, 2)).toEqual(["--watch-label-selector=!sharding.fluxcd.io/key"]);
    expect(fluxSelectorArgs("shard2", 2)).toEqual(["--watch-label-selector=sharding.fluxcd.io/key in (shard2)"]);
  });

  it("should read each Deployment's args from the rendered charts, the same selectors as Flux's", async () => {
    const { bin } = await ensureBinaries();
    for (const chart of ["source-controller", "kustomize-controller"]) {
      // As bench/peer renders them: multi-tenancy off (Flux runs without its lockdown flags too).
      const render = async (...set: string[]) =>
        (
          await run(bin.helm, [
            "template",
            "bench",
            join(repoRoot, "charts", chart),
            ...(chart === "kustomize-controller" ? ["--set", "multitenancy.enabled=false"] : []),
            ...set,
          ])
        ).stdout;
      const sharded = await render("--set", "shards={shard1,shard2}");
      for (const shard of [undefined, "shard1", "shard2"]) {
        expect(chartArgs(sharded, chart, shard)).toEqual(fluxSelectorArgs(shard, 2));
      }
      // Without shards: no selector (and the bench's own flags, ports, storage and limits, are left out).
      expect(chartArgs(await render(), chart, undefined)).toEqual([]);
      expect(() => chartArgs(sharded, chart, "shard9")).toThrow(`no Deployment ${chart}-shard9`);
    }
  }, 300_000); // six `helm template` runs, slow on a loaded machine

  it("should start each Capstan process with the environment its rendered Deployment gives it", async () => {
    const { bin } = await ensureBinaries();
    for (const chart of ["source-controller", "kustomize-controller"] as const) {
      const { stdout } = await run(bin.helm, [
        "template",
        "bench",
        join(repoRoot, "charts", chart),
        "--set",
        "shards={shard1}",
      ]);
      const deployments = parseAllDocuments(stdout)
        .map((d) => d.toJSON() as KubeObject | null)
        .filter((d): d is KubeObject => d?.kind === "Deployment");
      expect(deployments).toHaveLength(2);
      const fromValues = await chartEnv(chart);
      for (const d of deployments) {
        const env = (d.spec as { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } })
          .template.spec.containers[0]?.env;
        const rendered = Object.fromEntries(
          (env ?? [])
            .filter((e) => e.name === "NODE_OPTIONS" || e.name === "MALLOC_ARENA_MAX")
            .map((e) => [e.name, e.value]),
        );
        expect(rendered).toEqual(fromValues);
      }
    }
    // Both controllers' glibc arenas are capped (bench/peer/README.md has the measurements).
    expect(await chartEnv("kustomize-controller")).toMatchObject({ MALLOC_ARENA_MAX: "2" });
    expect(await chartEnv("source-controller")).toMatchObject({ MALLOC_ARENA_MAX: "2" });
  }, 120_000);

  it("should start each controller with its image's node flags, as the Dockerfile's ENTRYPOINT gives them", async () => {
    const dockerfile = `FROM node:24 AS base
FROM base AS source-controller
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--optimize-for-size", "--stack-size=2000", "/app/dist/main.js"]
FROM base AS kustomize-controller
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/main.js"]
FROM base AS kustomize-controller-debug
ENTRYPOINT ["node", "--inspect", "/app/dist/main.js"]
`;
    expect(entrypointNodeArgs(dockerfile, "source-controller")).toEqual(["--optimize-for-size", "--stack-size=2000"]);
    // The stage named exactly, not one whose name starts the same.
    expect(entrypointNodeArgs(dockerfile, "kustomize-controller")).toEqual([]);
    expect(() => entrypointNodeArgs(dockerfile, "helm-controller")).toThrow(/no Dockerfile stage helm-controller/);
    expect(() => entrypointNodeArgs('FROM base AS x\nENTRYPOINT ["/bin/sh"]\n', "x")).toThrow(/does not run node/);
    // The repository's images (bench/peer/README.md has the measurements behind the flag).
    expect(await imageNodeArgs("source-controller")).toEqual(["--optimize-for-size", "--no-opt", "--no-maglev"]);
    expect(await imageNodeArgs("kustomize-controller")).toEqual(["--optimize-for-size"]);
  });

  it("should keep a chart arg the bench does not set itself", () => {
    const rendered = `kind: Deployment
metadata: { name: kustomize-controller }
spec:
  template:
    spec:
      containers:
        - name: manager
          args: ["--health-addr=:9440", "--concurrent=4", "--default-service-account=x", "--leader-elect=true"]
`;
    expect(chartArgs(rendered, "kustomize-controller", undefined)).toEqual(["--default-service-account=x"]);
  });
});

describe("--kcm-qps", () => {
  it("should give kube-controller-manager the QPS and 1.5 times it as burst, and nothing without the option", () => {
    expect(kcmArgs(undefined)).toEqual([]);
    expect(kcmArgs("100")).toEqual(["--kube-api-qps=100", "--kube-api-burst=150"]);
    expect(kcmArgs("25")).toEqual(["--kube-api-qps=25", "--kube-api-burst=38"]);
    for (const bad of ["0", "-5", "1.5", "many", ""]) expect(() => kcmArgs(bad)).toThrow(/positive integer/);
  });
});

describe("idle CPU", () => {
  it("should give CPU over a window as % of one core", () => {
    expect(cpuPercentOfCore(10, 16, 120)).toBe(5);
    expect(cpuPercentOfCore(3, 3, 30)).toBe(0);
    expect(cpuPercentOfCore(0, 240, 120)).toBe(200); // two cores busy
    expect(() => cpuPercentOfCore(0, 1, 0)).toThrow(/> 0 s/);
  });
});

describe("the per-process table", () => {
  const fig = (cpu: number, mib: number, idle: number): ProcessFigures => ({
    cpu,
    hwmKiB: mib * 1024,
    treePeakKiB: (mib + 10) * 1024,
    idlePercent: idle,
  });

  it("should keep the historical row names without shards", () => {
    const rows = processRows(processesOf(0), [fig(5, 90, 1), fig(40, 160, 2)], [fig(3, 100, 0.5), fig(25, 150, 1)], 0);
    expect(rows.map((r) => r.measure)).toEqual([
      "source-controller CPU (self + children)",
      "kustomize-controller CPU (self + children)",
      "CPU, both controllers",
      "source-controller peak RSS (VmHWM)",
      "kustomize-controller peak RSS (VmHWM)",
      "source-controller peak RSS + children (sampled)",
      "kustomize-controller peak RSS + children (sampled)",
    ]);
    expect(rows[2]).toMatchObject({ flux: 45, capstan: 28, unit: "s" });
  });

  it("should give one row per process and the sums with shards, NaN for a side not run", () => {
    const processes = processesOf(2);
    expect(processes.map(processLabel)).toEqual([
      "source-controller",
      "source-controller-shard1",
      "source-controller-shard2",
      "kustomize-controller",
      "kustomize-controller-shard1",
      "kustomize-controller-shard2",
    ]);
    const capstan = [
      fig(1, 80, 0.1),
      fig(2, 90, 0.2),
      fig(3, 90, 0.3),
      fig(1, 85, 0.1),
      fig(10, 120, 0.5),
      fig(11, 125, 0.6),
    ];
    const rows = processRows(processes, [], capstan, 120);
    const get = (m: string) => rows.find((r) => r.measure === m);
    expect(get("kustomize-controller-shard2 CPU (self + children)")).toMatchObject({ capstan: 11 });
    expect(get("CPU, all 6 processes")?.capstan).toBe(28);
    expect(get("peak RSS (VmHWM), sum of all 6 processes")?.capstan).toBe(590);
    expect(get("source-controller-shard1 idle CPU over 120 s (% of a core)")?.capstan).toBeCloseTo(0.2);
    expect(get("idle CPU, all 6 processes (% of a core)")?.capstan).toBeCloseTo(1.8);
    expect(Number.isNaN(get("CPU, all 6 processes")?.flux)).toBe(true);
    expect(rows.filter((r) => r.measure.includes("CPU (self + children)"))).toHaveLength(6);
  });

  it("should format seconds, MiB and % of a core", () => {
    expect(formatValue(12.345, "s")).toBe("12.3 s");
    expect(formatValue(123.6, "MiB")).toBe("124 MiB");
    expect(formatValue(0.456, "%")).toBe("0.46 %");
    expect(formatValue(Number.NaN, "s")).toBe("NaN");
  });
});

describe("who reconciled what", () => {
  const metrics = `# HELP gotk_reconcile_duration_seconds x
gotk_reconcile_duration_seconds_bucket{kind="Kustomization",name="app-1",namespace="flux-system",le="+Inf"} 2
gotk_reconcile_duration_seconds_count{kind="Kustomization",name="app-1",namespace="flux-system"} 2
gotk_reconcile_duration_seconds_count{kind="GitRepository",name="app-3",namespace="flux-system"} 1
gotk_reconcile_duration_seconds_count{kind="GitRepository",name="app-2",namespace="flux-system"} 1
gotk_reconcile_duration_seconds_count{kind="Kustomization",name="app-5",namespace="flux-system"} 0
`;

  it("should read the objects a process reconciled from its metrics", () => {
    expect(reconciledNames(metrics)).toEqual([
      { kind: "Kustomization", name: "app-1" },
      { kind: "GitRepository", name: "app-3" },
      { kind: "GitRepository", name: "app-2" },
    ]);
  });

  it("should find the objects of another shard", () => {
    const names = reconciledNames(metrics);
    expect(strayReconciles({ controller: "kustomize-controller", shard: "shard2" }, names, 2)).toEqual([
      { kind: "GitRepository", name: "app-2" },
    ]);
    expect(strayReconciles({ controller: "kustomize-controller" }, names, 2)).toHaveLength(3);
    expect(strayReconciles({ controller: "kustomize-controller" }, names, 0)).toEqual([]);
  });
});

describe("ReadyCount", () => {
  it("should count objects and Ready ones through adds, updates and deletes", () => {
    const c = new ReadyCount();
    c.set("K/a", false);
    c.set("K/b", true);
    expect([c.total, c.readyTotal, c.firstNotReady()]).toEqual([2, 1, "K/a"]);
    c.set("K/a", true);
    c.set("K/b", true);
    expect([c.total, c.readyTotal, c.firstNotReady()]).toEqual([2, 2, undefined]);
    c.set("K/b", false);
    c.delete("K/a");
    c.delete("K/zz");
    expect([c.total, c.readyTotal]).toEqual([1, 0]);
  });
});

describe("who Flux's processes reconciled", () => {
  it("should read the objects from controller-runtime's JSON log lines, each once", () => {
    const log = [
      `{"level":"info","msg":"stored artifact","controller":"gitrepository","GitRepository":{"name":"app-2","namespace":"flux-system"},"namespace":"flux-system","name":"app-2"}`,
      `{"level":"info","msg":"server-side apply completed","Kustomization":{"name":"app-4","namespace":"flux-system"},"name":"app-4"}`,
      `{"level":"info","msg":"again","Kustomization":{"name":"app-4","namespace":"flux-system"}}`,
      `{"level":"info","msg":"starting server","addr":"127.0.0.1:1234"}`,
    ].join("\n");
    expect(loggedNames(log)).toEqual([
      { kind: "GitRepository", name: "app-2" },
      { kind: "Kustomization", name: "app-4" },
    ]);
  });
});
