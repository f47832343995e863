// values.shards in the kustomize-controller and source-controller charts renders Flux's sharding: one more Deployment
// per shard selecting `sharding.fluxcd.io/key in (<shard>)`, the main one `!sharding.fluxcd.io/key`, pod selectors
// that do not overlap, and for source-controller a Service per shard that its artifact URLs name. Rendering only.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const charts = resolve(import.meta.dirname, "..", "..", "charts");

interface Obj {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { args: string[] }[] };
    };
  };
}

async function render(chart: string, set: string[]): Promise<Obj[]> {
  const { bin } = await ensureBinaries();
  const args = ["template", "r", resolve(charts, chart), "-n", "flux-system", ...set.flatMap((s) => ["--set", s])];
  const { stdout } = await run(bin.helm, args, { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJSON() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

const args = (d: Obj) => d.spec.template?.spec.containers[0]?.args ?? [];
const selectorOf = (d: Obj) => args(d).filter((a) => a.startsWith("--watch-label-selector="));
/** Whether a Deployment's matchLabels select a pod template's labels. */
const selects = (d: Obj, pod: Obj) =>
  Object.entries((d.spec.selector as { matchLabels: Record<string, string> }).matchLabels).every(
    ([k, v]) => pod.spec.template?.metadata.labels[k] === v,
  );

describe.each(["kustomize-controller", "source-controller"])("Given the %s chart", (chart) => {
  it("without shards / should render one Deployment and no label selector", async () => {
    const deployments = (await render(chart, [])).filter((d) => d.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.name)).toEqual([chart]);
    expect(selectorOf(deployments[0] as Obj)).toEqual([]);
  });

  it("with shards [shard1, shard2] / should split the objects by sharding.fluxcd.io/key, without overlap", async () => {
    const deployments = (await render(chart, ["shards={shard1,shard2}"])).filter((d) => d.kind === "Deployment");
    expect(deployments.map((d) => [d.metadata.name, selectorOf(d)])).toEqual([
      [chart, ["--watch-label-selector=!sharding.fluxcd.io/key"]],
      [`${chart}-shard1`, ["--watch-label-selector=sharding.fluxcd.io/key in (shard1)"]],
      [`${chart}-shard2`, ["--watch-label-selector=sharding.fluxcd.io/key in (shard2)"]],
    ]);
    // Each Deployment owns its own pods only, and every pod still carries what the flux CLI selects on.
    for (const d of deployments) {
      for (const pod of deployments) expect(selects(d, pod)).toBe(d === pod);
      expect(d.spec.template?.metadata.labels).toMatchObject({
        "app.kubernetes.io/part-of": "flux",
        "app.kubernetes.io/component": chart,
      });
    }
  });

  it("with a shard name that is not a DNS label / should refuse to render", async () => {
    await expect(render(chart, ["shards={Shard_1}"])).rejects.toThrow(/shards/);
  });
});

describe("Given source-controller shards", () => {
  it("should give each shard a Service selecting its pods and advertise artifacts at that Service", async () => {
    const objs = await render("source-controller", ["shards={shard1}"]);
    const service = objs.find((o) => o.kind === "Service" && o.metadata.name === "source-controller-shard1");
    const deployment = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "source-controller-shard1");
    expect(service).toBeDefined();
    expect(deployment).toBeDefined();
    const podLabels = deployment?.spec.template?.metadata.labels ?? {};
    for (const [k, v] of Object.entries(service?.spec.selector as Record<string, string>)) expect(podLabels[k]).toBe(v);
    expect(args(deployment as Obj)).toContain(
      "--storage-adv-addr=source-controller-shard1.$(RUNTIME_NAMESPACE).svc.cluster.local.",
    );
    const main = objs.find((o) => o.kind === "Service" && o.metadata.name === "source-controller");
    expect(Object.entries(main?.spec.selector as Record<string, string>).every(([k, v]) => podLabels[k] === v)).toBe(
      false,
    );
  });
});
