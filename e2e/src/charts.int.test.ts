// The Helm charts: lint clean, render objects the real apiserver accepts (server-side dry-run), install alone or all
// together, and their Deployments become Available on the local control plane (kwok runs the pods).
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { AppsV1Api, type KubernetesObject, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const charts = resolve(import.meta.dirname, "..", "..", "charts");
const controllers = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
] as const;

async function helm(args: string[], kubeconfig?: string): Promise<string> {
  const { bin } = await ensureBinaries();
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(tmpdir(), "capstan-helm-cache"),
    ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
  };
  try {
    return (await run(bin.helm, args, { env, maxBuffer: 32 * 1024 * 1024 })).stdout;
  } catch (err) {
    throw new Error(`helm ${args.join(" ")}: ${(err as { stderr?: string }).stderr ?? err}`, { cause: err });
  }
}

function docs(yaml: string): KubernetesObject[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJSON() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => d !== null);
}

describe("Given the Helm charts", () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const kc = loadKubeConfig(kubeconfig);
  let umbrella: string;
  const namespaces: TestNamespace[] = [];

  beforeAll(async () => {
    // The umbrella chart's dependencies are packaged from the sibling charts into a copy, never into the repo.
    umbrella = mkdtempSync(join(tmpdir(), "capstan-charts-"));
    cpSync(charts, umbrella, { recursive: true });
    await helm(["dependency", "build", join(umbrella, "capstan")]);
  });
  afterAll(async () => {
    rmSync(umbrella, { recursive: true, force: true });
    for (const ns of namespaces) await ns.delete();
  });

  it("should share one _helpers.tpl, byte for byte", () => {
    const [first, ...rest] = controllers.map((c) => readFileSync(join(charts, c, "templates", "_helpers.tpl"), "utf8"));
    for (const other of rest) expect(other).toBe(first);
  });

  it.each([...controllers, "capstan"])("should lint %s without errors or warnings", async (chart) => {
    const out = await helm(["lint", "--strict", chart === "capstan" ? join(umbrella, chart) : join(charts, chart)]);
    expect(out).toContain("0 chart(s) failed");
    expect(out).not.toMatch(/\[(ERROR|WARNING)\]/);
  });

  it("should render objects that pass a server-side dry-run, CRDs included", async () => {
    const ns = await createTestNamespace(kc, "charts-dry-run");
    namespaces.push(ns);
    const rendered = docs(
      await helm(["template", "capstan", join(umbrella, "capstan"), "-n", ns.name, "--include-crds"]),
    );
    expect(rendered.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["CustomResourceDefinition", "Deployment", "ClusterRole"]),
    );
    const api = KubernetesObjectApi.makeApiClient(kc);
    // CRDs go as raw JSON: client-node's serializer drops keys it maps to other names, such as HelmRelease's
    // `x-kubernetes-preserve-unknown-fields` (spec.values), and the apiserver would then refuse a schema it never saw.
    const raw = new KubeClient({ kubeconfigPath: kubeconfig });
    const failures: string[] = [];
    for (const obj of rendered) {
      try {
        if (obj.kind === "CustomResourceDefinition") {
          await raw.apply(obj as KubeObject, { fieldManager: "capstan-chart-test", force: true, dryRun: true });
        } else {
          await api.patch(obj, undefined, "All", "capstan-chart-test", true, PatchStrategy.ServerSideApply);
        }
      } catch (err) {
        failures.push(`${obj.kind}/${obj.metadata?.name}: ${(err as Error).message}`);
      }
    }
    raw.close();
    expect(failures).toEqual([]);
  });

  it("should refuse two source-controller replicas without a shared volume", async () => {
    await expect(helm(["template", "x", join(charts, "source-controller"), "--set", "replicas=2"])).rejects.toThrow(
      /replicas > 1 needs storage.existingClaim/,
    );
  });

  it.each(controllers)("should give %s's container the env of values.env (the proxy Flux documents)", async (chart) => {
    const env = [
      { name: "HTTPS_PROXY", value: "http://proxy.example.com:3128" },
      { name: "NO_PROXY", value: ".cluster.local.,.cluster.local,.svc" },
    ];
    const sharded = chart === "source-controller" || chart === "kustomize-controller";
    const shards = sharded ? ["--set-json", 'shards=["s1"]'] : [];
    const rendered = docs(
      await helm(["template", "x", join(charts, chart), "--set-json", `env=${JSON.stringify(env)}`, ...shards]),
    );
    const deployments = rendered.filter((o) => o.kind === "Deployment") as {
      spec: { template: { spec: { containers: { env: unknown[] }[] } } };
    }[];
    expect(deployments).toHaveLength(sharded ? 2 : 1); // the main Deployment and its shard
    for (const d of deployments) {
      const got = d.spec.template.spec.containers[0]?.env ?? [];
      expect(got).toEqual(expect.arrayContaining(env));
      expect(got).toEqual(expect.arrayContaining([expect.objectContaining({ name: "RUNTIME_NAMESPACE" })]));
    }
  });

  it("should pass the umbrella chart's source-controller.env to source-controller alone (README's proxy example)", async () => {
    const env = [
      { name: "HTTPS_PROXY", value: "http://proxy.example.com:3128" },
      { name: "NO_PROXY", value: ".cluster.local.,.cluster.local,.svc" },
    ];
    const rendered = docs(
      await helm([
        "template",
        "capstan",
        join(umbrella, "capstan"),
        "--set-json",
        `source-controller.env=${JSON.stringify(env)}`,
      ]),
    ) as {
      kind?: string;
      metadata?: { name?: string };
      spec?: { template: { spec: { containers: { env?: { name: string }[] }[] } } };
    }[];
    const envOf = (name: string) =>
      rendered.find((o) => o.kind === "Deployment" && o.metadata?.name === name)?.spec?.template.spec.containers[0]
        ?.env ?? [];
    expect(envOf("source-controller")).toEqual(expect.arrayContaining(env));
    expect(envOf("kustomize-controller").map((e) => e.name)).not.toContain("HTTPS_PROXY");
  });

  it.each([
    ["source-controller alone", "source-controller", ["source-controller"]],
    ["all controllers through the umbrella chart", "capstan", [...controllers]],
  ] as const)("should install %s and make its Deployments Available", async (_, chart, deployments) => {
    const ns = await createTestNamespace(kc, `charts-${chart}`);
    namespaces.push(ns);
    const release = `r-${ns.name.slice(-6)}`;
    const path = chart === "capstan" ? join(umbrella, chart) : join(charts, chart);
    try {
      await helm(["install", release, path, "-n", ns.name, "--wait=false"], kubeconfig);
      const apps = kc.makeApiClient(AppsV1Api);
      for (const name of deployments) {
        const d = await eventually(
          async () => {
            const got = await apps.readNamespacedDeployment({ name, namespace: ns.name });
            return got.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ? got : undefined;
          },
          { timeoutMs: 60_000, what: `${name} Available` },
        );
        const pod = d.spec?.template.spec;
        expect(pod?.containers[0]?.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        });
      }
    } finally {
      await helm(["uninstall", release, "-n", ns.name], kubeconfig).catch(() => undefined);
    }
  });
});
