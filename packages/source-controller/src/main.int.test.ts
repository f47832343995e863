// dist/main.js with the Helm chart's arguments (see testing/process.ts for the local rewrites) but the admin kubeconfig,
// against the control plane (the chart's own ServiceAccount and RBAC are exercised by the e2e suite, e2e/src):
// leader election on, artifacts served and downloadable at status.artifact.url, SIGTERM → exit 0, and a restart that
// keeps serving what is in storage without fetching an unchanged revision again.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitRepositoryType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import {
  createGitShim,
  createTestRepo,
  type GitHttpServer,
  type GitShim,
  startGitHttpServer,
  type TestRepo,
} from "@capstan/gitserver";
import { getCondition, KubeClient, type KubeObject, leaseName } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { GitRepositoryObject } from "./gitrepository/state.js";
import { buildDist, type ControllerProcess, startControllerProcess } from "./testing/process.js";

let kubeconfig: string;
let work: string;
let git: GitHttpServer;
let repo: TestRepo;
const ownRepos: TestRepo[] = [];
let shim: GitShim;
let client: KubeClient;
let ns: TestNamespace;
const processes: ControllerProcess[] = [];
// The chart watches all namespaces; the shared test cluster holds other tests' GitRepositories, so this run only
// takes objects carrying its own label (the chart's extraArgs would pass the same flag).
const runLabel = "capstan.dev/test-run";

beforeAll(async () => {
  kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  await buildDist();
  await ensureCrds(kubeconfig);
  work = await mkdtemp(join(tmpdir(), "capstan-source-main-"));
  await mkdir(join(work, "bin"));
  await mkdir(join(work, "storage"));
  await mkdir(join(work, "tmp"));
  shim = await createGitShim(join(work, "bin"));
  git = await startGitHttpServer({ root: join(work, "git") });
  repo = await createTestRepo(join(work, "git"), "app.git", "main");
  client = new KubeClient({ kubeconfigPath: kubeconfig });
  ns = await createTestNamespace(loadKubeConfig(kubeconfig), "source-main");
}, 300_000);

afterAll(async () => {
  for (const p of processes) await p.kill();
  await ns?.delete();
  client?.close();
  await git?.close();
  for (const r of [repo, ...ownRepos]) if (r) await rm(r.work, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

function start(storagePort?: number): Promise<ControllerProcess> {
  return startControllerProcess({
    kubeconfig,
    namespace: ns.name,
    storagePath: join(work, "storage"),
    tmpDir: join(work, "tmp"),
    pathPrefix: shim.binDir,
    extraArgs: [`--watch-label-selector=${runLabel}=${ns.name}`],
    ...(storagePort ? { storagePort } : {}),
  }).then((p) => {
    processes.push(p);
    return p;
  });
}

const ref = { apiVersion: gitRepositoryType.apiVersion, kind: "GitRepository", name: "app" };
const get = (name = "app") => client.get<GitRepositoryObject>({ ...ref, name, namespace: ns.name });

/** A repository and a GitRepository (labelled for this run) of its own, so that a test passes or fails on its own. */
async function ownSource(name: string): Promise<string> {
  const r = await createTestRepo(join(work, "git"), `${name}.git`, "main");
  ownRepos.push(r);
  const head = await r.commit({ "deploy/app.yaml": "v: 1\n" });
  await client.create({
    ...ref,
    metadata: { name, namespace: ns.name, labels: { [runLabel]: ns.name } },
    spec: { interval: "10m", url: `${git.url}/${name}.git`, ref: { branch: "main" } },
  });
  return head;
}

/** Waits until the GitRepository is Ready with an artifact at main@sha1:<head>. */
function readyAt(name: string, head: string, controller: ControllerProcess): Promise<GitRepositoryObject> {
  return eventually(
    async () => {
      const obj = await get(name);
      return obj &&
        getCondition(obj, "Ready")?.status === "True" &&
        obj.status?.artifact?.revision === `main@sha1:${head}`
        ? obj
        : undefined;
    },
    { timeoutMs: 60_000, what: () => `${name} Ready; log:\n${controller.output().slice(-2000)}` },
  );
}

async function download(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return `sha256:${createHash("sha256")
    .update(Buffer.from(await res.arrayBuffer()))
    .digest("hex")}`;
}

describe("source-controller process (dist/main.js, chart arguments)", () => {
  it("Given the chart's arguments / should elect itself, make a GitRepository Ready, serve the artifact, and exit 0 on SIGTERM", async () => {
    const controller = await start();
    await controller.ready();
    const head = await repo.commit({ "deploy/app.yaml": "v: 1\n" });
    await client.create({
      ...ref,
      metadata: { name: "app", namespace: ns.name, labels: { [runLabel]: ns.name } },
      spec: { interval: "10m", url: `${git.url}/app.git`, ref: { branch: "main" } },
    });
    const first = await eventually(
      async () => {
        const obj = await get();
        return obj && getCondition(obj, "Ready")?.status === "True" ? obj : undefined;
      },
      { timeoutMs: 60_000, what: () => `app Ready; log:\n${controller.output().slice(-2000)}` },
    );
    const artifact = first.status?.artifact;
    expect(artifact?.revision).toBe(`main@sha1:${head}`);
    expect(artifact?.url).toBe(`http://${controller.storageAddress}/gitrepository/${ns.name}/app/${head}.tar.gz`);
    expect(await download(artifact?.url ?? "")).toBe(artifact?.digest);

    const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      namespace: ns.name,
      // The shard's own Lease: this process watches only its run label (--watch-label-selector).
      name: leaseName("source-controller", `${runLabel}=${ns.name}`),
    });
    // The Lease is held by this very process: the identity it logged on acquiring it (hostname_uuid).
    const acquired = controller.logs.find((l) => l.msg === "successfully acquired lease");
    expect(acquired?.identity).toMatch(/^.+_[0-9a-f-]{36}$/);
    expect(lease?.spec?.holderIdentity).toBe(acquired?.identity);

    expect(await controller.terminate()).toEqual({ code: 0, signal: null });
  });

  it("Given a restart on the same storage / should keep serving the artifact and not fetch the unchanged revision", async () => {
    // Its own object, stored by a process of its own that is then stopped.
    const before = await start();
    const storagePort = Number(before.storageAddress.split(":")[1]);
    await before.ready();
    const stored = await readyAt("restarted", await ownSource("restarted"), before);
    const artifact = stored.status?.artifact;
    if (!artifact) throw new Error("restarted is Ready without an artifact");
    expect(await before.terminate()).toEqual({ code: 0, signal: null });
    const fetches = await shim.count("fetch");
    // The listing is read in process over HTTP (git/smart-http.ts): counted as the server's ref advertisements.
    const listings = () => git.requests.filter((r) => r.path.startsWith("/restarted.git/info/refs")).length;
    const listed = listings();
    expect(listed).toBeGreaterThan(0);

    const controller = await start(storagePort);
    await controller.ready();
    // Served from storage as soon as the process is up, before any reconcile.
    expect(await download(artifact.url)).toBe(artifact.digest);

    await client.mergePatch(
      { ...ref, name: "restarted", namespace: ns.name },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "after-restart" } } },
    );
    const after = await eventually(
      async () => {
        const obj = await get("restarted");
        return obj?.status?.lastHandledReconcileAt === "after-restart" ? obj : undefined;
      },
      { timeoutMs: 90_000, what: () => `request handled; log:\n${controller.output().slice(-2000)}` },
    );
    expect(listings()).toBeGreaterThan(listed);
    expect(await shim.count("fetch")).toBe(fetches);
    expect(after.status?.artifact).toEqual(artifact);
    expect(getCondition(after, "Ready")?.status).toBe("True");

    expect(await controller.terminate()).toEqual({ code: 0, signal: null });
  });

  it("Given two replicas on one shared storage volume / should reconcile on the leader only, serve artifacts from both, and fail over on SIGTERM", async () => {
    const leads = (p: ControllerProcess) => p.logs.some((l) => l.msg === "successfully acquired lease");
    const leader = await start();
    await eventually(() => leads(leader), { timeoutMs: 60_000, what: "first replica leading" });
    // Its own object, reconciled by this leader.
    const artifact = (await readyAt("failover", await ownSource("failover"), leader)).status?.artifact;
    if (!artifact) throw new Error("failover is Ready without an artifact");
    const standby = await start();
    await standby.ready();
    expect(leads(standby)).toBe(false);
    // The URL in status names the leader's address; behind a Service any replica may answer it.
    expect(await download(`http://${standby.storageAddress}/${artifact.path}`)).toBe(artifact.digest);

    expect(await leader.terminate()).toEqual({ code: 0, signal: null });
    // The leader released the Lease on its way out: the standby takes over without waiting for it to expire.
    await eventually(() => leads(standby), { timeoutMs: 30_000, what: "standby leading after failover" });
    expect(await standby.terminate()).toEqual({ code: 0, signal: null });
  });
});
