// The Kustomization reconciler end to end inside one process: a real apiserver with the Flux CRDs, a GitRepository
// whose status points at a tarball on a loopback HTTP server, the real kustomize binary and the runtime's Manager.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kustomizationType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { ensureBinaries } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { KubeClient, Manager, parseFlags } from "@capstan/runtime";
import { create } from "tar";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controllerName, registerKustomizeController } from "../controller.js";
import { kustomizeControllerFlags } from "../flags.js";
import type { KustomizationObject } from "./types.js";

const files = new Map<string, Buffer>();
let server: Server;
let base: string;
let work: string;
let client: KubeClient;
let ns: TestNamespace;
let manager: Manager;
let running: Promise<void>;

async function artifact(tree: Record<string, string>): Promise<{ url: string; digest: string; revision: string }> {
  const dir = await mkdtemp(join(work, "src-"));
  for (const [p, text] of Object.entries(tree)) {
    await mkdir(join(dir, p, ".."), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  const file = join(work, `${randomBytes(4).toString("hex")}.tar.gz`);
  await create({ gzip: true, file, cwd: dir, portable: true }, ["."]);
  const body = await readFile(file);
  const sha = createHash("sha256").update(body).digest("hex");
  files.set(`/${sha}.tar.gz`, body);
  return {
    url: `${base}/${sha}.tar.gz`,
    digest: `sha256:${sha}`,
    revision: `main@sha1:${randomBytes(20).toString("hex")}`,
  };
}

const cm = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

async function publish(name: string, a: { url: string; digest: string; revision: string }): Promise<void> {
  const ref = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" };
  await client.apply(
    { ...ref, metadata: { name, namespace: ns.name }, spec: { url: "https://git.invalid/repo", interval: "10m" } },
    { fieldManager: "test" },
  );
  await client.applyStatus(
    {
      ...ref,
      metadata: { name, namespace: ns.name },
      status: {
        artifact: { ...a, path: "x.tar.gz", lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
      },
    },
    { fieldManager: "source-controller", force: true },
  );
}

async function kustomization(name: string, spec: Record<string, unknown>): Promise<void> {
  await client.apply(
    {
      apiVersion: kustomizationType.apiVersion,
      kind: kustomizationType.kind,
      metadata: { name, namespace: ns.name },
      spec: {
        interval: "10m",
        timeout: "30s",
        prune: true,
        sourceRef: { kind: "GitRepository", name: "repo" },
        ...spec,
      },
    },
    { fieldManager: "test" },
  );
}

const getK = (name: string) =>
  client.get<KustomizationObject>({
    apiVersion: kustomizationType.apiVersion,
    kind: "Kustomization",
    name,
    namespace: ns.name,
  });
const getCM = (name: string) => client.get({ apiVersion: "v1", kind: "ConfigMap", name, namespace: ns.name });
const ready = (k: KustomizationObject | undefined) => k?.status?.conditions?.find((c) => c.type === "Ready");

beforeAll(async () => {
  const kubeconfigPath = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfigPath);
  work = await mkdtemp(join(tmpdir(), "ks-reconciler-"));
  server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    res.writeHead(body ? 200 : 404);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new KubeClient({ kubeconfigPath });
  ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), "ks-reconcile");
  const parsed = parseFlags(controllerName, kustomizeControllerFlags, [
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    "--watch-all-namespaces=false",
    `--namespace=${ns.name}`,
    "--log-level=error",
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  manager = new Manager({ name: controllerName, flags: parsed.values, client, handleSignals: false });
  registerKustomizeController({
    manager,
    client,
    fromKubeconfig: (yaml) => KubeClient.fromKubeconfig(yaml),
    kustomizeBinary: (await ensureBinaries()).bin.kustomize,
    artifactCacheDir: join(work, "cache"),
    httpRetry: 2,
    minBackoffMs: 50,
    requeueDependencyMs: 500,
    healthIntervalMs: 500,
  });
  running = manager.start();
});

afterAll(async () => {
  await manager?.stop();
  await running?.catch(() => undefined);
  await ns?.delete();
  client?.close();
  await new Promise((r) => server?.close(r));
  if (work) await rm(work, { recursive: true, force: true });
});

describe("Kustomization reconciler", () => {
  it("Given a source revision, should apply it, record the inventory, then prune and update on the next revision", async () => {
    const v1 = await artifact({ "a.yaml": cm("a", "1"), "b.yaml": cm("b", "1") });
    await publish("repo", v1);
    await kustomization("apps", { targetNamespace: ns.name, postBuild: { substitute: { unused: "x" } } });

    const k1 = await eventually(
      async () => {
        const k = await getK("apps");
        return k?.status?.lastAppliedRevision === v1.revision && ready(k)?.status === "True" && k;
      },
      { what: "first revision applied", timeoutMs: 60_000 },
    );
    expect(ready(k1)).toMatchObject({ reason: "ReconciliationSucceeded", message: `Applied revision: ${v1.revision}` });
    expect(k1.status?.inventory?.entries).toEqual([
      { id: `${ns.name}_a__ConfigMap`, v: "v1" },
      { id: `${ns.name}_b__ConfigMap`, v: "v1" },
    ]);
    expect(k1.status?.history?.[0]).toMatchObject({
      lastReconciledStatus: "ReconciliationSucceeded",
      metadata: { revision: v1.revision },
    });
    expect((await getCM("a"))?.metadata.labels).toMatchObject({
      "kustomize.toolkit.fluxcd.io/name": "apps",
      "kustomize.toolkit.fluxcd.io/namespace": ns.name,
    });
    expect(k1.metadata.finalizers).toContain("finalizers.fluxcd.io");

    const v2 = await artifact({ "a.yaml": cm("a", "2") });
    await publish("repo", v2);
    await eventually(async () => (await getK("apps"))?.status?.lastAppliedRevision === v2.revision, {
      what: "second revision applied",
      timeoutMs: 60_000,
    });
    expect((await getCM("a"))?.data).toEqual({ value: "2" });
    expect(await getCM("b")).toBeUndefined();
    expect((await getK("apps"))?.status?.inventory?.entries).toEqual([{ id: `${ns.name}_a__ConfigMap`, v: "v1" }]);
  });

  it("Given a dependency that does not exist, should report DependencyNotReady", async () => {
    await kustomization("dependent", { dependsOn: [{ name: "missing" }] });
    const k = await eventually(
      async () => {
        const r = ready(await getK("dependent"));
        return r?.reason === "DependencyNotReady" && r;
      },
      { what: "DependencyNotReady" },
    );
    expect(k.message).toContain(`dependency '${ns.name}/missing' is not ready`);
  });

  it("Given decryption or an unsupported source kind, should stall saying it is not supported", async () => {
    await kustomization("sops", { decryption: { provider: "sops" } });
    await kustomization("oci", { sourceRef: { kind: "OCIRepository", name: "x" } });
    for (const [name, text] of [
      ["sops", "spec.decryption (SOPS) is not supported yet"],
      ["oci", "source kind 'OCIRepository' is not supported yet"],
    ] as const) {
      const k = await eventually(
        async () => {
          const obj = await getK(name);
          return obj?.status?.conditions?.find((c) => c.type === "Stalled") && obj;
        },
        { what: `${name} stalled` },
      );
      expect(ready(k)).toMatchObject({ status: "False" });
      expect(ready(k)?.message).toContain(text);
    }
  });

  it("Given a build error, should report BuildFailed naming the cause", async () => {
    const bad = await artifact({ "kustomization.yaml": "resources: [missing.yaml]\n" });
    await publish("broken", bad);
    await kustomization("broken", { sourceRef: { kind: "GitRepository", name: "broken" } });
    const r = await eventually(
      async () => {
        const c = ready(await getK("broken"));
        return c?.reason === "BuildFailed" && c;
      },
      { what: "BuildFailed" },
    );
    expect(r.message).toContain("missing.yaml");
    expect((await getK("broken"))?.status?.lastAttemptedRevision).toBe(bad.revision);
  });

  it("Given a deleted Kustomization with prune, should delete its objects and release the finalizer", async () => {
    const a = await artifact({ "gc.yaml": cm("gc", "1") });
    await publish("gc-repo", a);
    await kustomization("gc", { sourceRef: { kind: "GitRepository", name: "gc-repo" }, targetNamespace: ns.name });
    await eventually(async () => (await getK("gc"))?.status?.lastAppliedRevision === a.revision, {
      what: "gc applied",
    });
    expect(await getCM("gc")).toBeDefined();
    await client.delete({
      apiVersion: kustomizationType.apiVersion,
      kind: "Kustomization",
      name: "gc",
      namespace: ns.name,
    });
    await eventually(async () => (await getK("gc")) === undefined, { what: "Kustomization gone" });
    expect(await getCM("gc")).toBeUndefined();
  });
});
