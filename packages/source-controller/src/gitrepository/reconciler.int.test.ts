// The GitRepository reconciler inside one process against the real kube-apiserver: real git server, real storage,
// the artifact server and the runtime's Manager.
import { createHash } from "node:crypto";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
import { getCondition, KubeClient, Manager, parseFlags } from "@capstan/runtime";
import { x as extract } from "tar";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controllerName, sourceControllerFlags } from "../flags.js";
import { type ArtifactServer, startArtifactServer } from "../server/server.js";
import { Storage } from "../storage/storage.js";
import { createTestRepo, type GitHttpServer, startGitHttpServer, type TestRepo } from "../testing/index.js";
import { gitRepositoryReconciler } from "./definition.js";
import type { GitRepositoryObject } from "./state.js";

const password = "reconciler-pass-do-not-leak";
let work: string;
let gitRoot: string;
let git: GitHttpServer;
let repo: TestRepo;
let libRepo: TestRepo;
let artifacts: ArtifactServer;
let storage: Storage;
let client: KubeClient;
let ns: TestNamespace;
let manager: Manager;
let running: Promise<void>;

beforeAll(async () => {
  const kubeconfigPath = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfigPath);
  work = await mkdtemp(join(tmpdir(), "capstan-gitrepo-int-"));
  gitRoot = join(work, "git");
  git = await startGitHttpServer({ root: gitRoot, basicAuth: { username: "capstan", password } });
  repo = await createTestRepo(gitRoot, "app.git", "main");
  await repo.commit({ "deploy/app.yaml": "v: 1\n", "logo.png": "png" });
  libRepo = await createTestRepo(gitRoot, "lib.git", "main");
  await libRepo.commit({ "manifests/lib.yaml": "lib: 1\n" });
  await mkdir(join(work, "storage"), { recursive: true });
  artifacts = await startArtifactServer({ root: join(work, "storage"), address: "127.0.0.1:0" });
  storage = new Storage({ root: join(work, "storage"), advertisedAddress: `127.0.0.1:${artifacts.port}` });
  client = new KubeClient({ kubeconfigPath });
  ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), "gitrepo");
  await client.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "git-auth", namespace: ns.name },
    stringData: { username: "capstan", password },
  });
  await client.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "bad-auth", namespace: ns.name },
    stringData: { username: "capstan", password: "wrong-reconciler-pass" },
  });
  const parsed = parseFlags(controllerName, sourceControllerFlags, [
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    "--watch-all-namespaces=false",
    `--namespace=${ns.name}`,
    "--log-level=error",
    "--min-retry-delay=100ms",
    "--max-retry-delay=2s",
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  manager = new Manager({ name: controllerName, flags: parsed.values, client, handleSignals: false });
  manager.register(gitRepositoryReconciler({ storage, requeueDependencyMs: 500 }));
  running = manager.start();
  running.catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  await running?.catch(() => undefined);
  await ns?.delete();
  client?.close();
  await artifacts?.close();
  await git?.close();
  for (const r of [repo, libRepo]) if (r) await rm(r.work, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

const ref = (name: string) => ({
  apiVersion: gitRepositoryType.apiVersion,
  kind: "GitRepository",
  namespace: ns.name,
  name,
});

async function create(name: string, spec: Record<string, unknown>): Promise<void> {
  await client.create({
    apiVersion: gitRepositoryType.apiVersion,
    kind: "GitRepository",
    metadata: { name, namespace: ns.name },
    spec: { interval: "10m", ...spec },
  });
}

const get = (name: string) => client.get<GitRepositoryObject>(ref(name));

async function readyAt(name: string, revision: string): Promise<GitRepositoryObject> {
  return eventually(
    async () => {
      const obj = await get(name);
      const ready = obj && getCondition(obj, "Ready");
      return ready?.status === "True" && obj?.status?.artifact?.revision === revision ? obj : undefined;
    },
    { timeoutMs: 30_000, what: `${name} Ready at ${revision}` },
  );
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe("GitRepository reconciler", () => {
  it("Given a repository and credentials / should store a verified artifact, serve it, and follow new commits", async () => {
    await create("app", { url: `${git.url}/app.git`, ref: { branch: "main" }, secretRef: { name: "git-auth" } });
    const head = (await repo.git(["rev-parse", "HEAD"])).trim();
    const obj = await readyAt("app", `main@sha1:${head}`);
    const artifact = obj.status?.artifact;
    expect(artifact?.path).toBe(`gitrepository/${ns.name}/app/${head}.tar.gz`);
    expect(artifact?.url).toBe(`http://127.0.0.1:${artifacts.port}/gitrepository/${ns.name}/app/${head}.tar.gz`);
    expect(getCondition(obj, "ArtifactInStorage")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(getCondition(obj, "Ready")?.message).toBe(`stored artifact for revision 'main@sha1:${head}'`);
    expect(obj.status?.observedGeneration).toBe(obj.metadata.generation);

    const bytes = await download(artifact?.url ?? "");
    expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(artifact?.digest);
    expect(bytes.length).toBe(artifact?.size);
    const out = join(work, "extract-app");
    await mkdir(out);
    await writeFile(join(work, "a.tgz"), bytes);
    await extract({ file: join(work, "a.tgz"), cwd: out });
    expect(await readFile(join(out, "deploy", "app.yaml"), "utf8")).toBe("v: 1\n");
    await expect(access(join(out, "logo.png"))).rejects.toThrow(); // Flux's default exclusions

    // Unchanged remote: a requested reconcile costs one ls-remote and no fetch.
    const infoRefs = () => git.requests.filter((r) => r.authorized && r.path.includes("/app.git/info/refs")).length;
    const before = infoRefs();
    await client.mergePatch(ref("app"), { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "one" } } });
    await eventually(async () => (await get("app"))?.status?.lastHandledReconcileAt === "one", {
      what: "request handled",
    });
    expect(infoRefs() - before).toBe(1);

    const next = await repo.commit({ "deploy/app.yaml": "v: 2\n" });
    await client.mergePatch(ref("app"), { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "two" } } });
    const updated = await readyAt("app", `main@sha1:${next}`);
    expect(updated.status?.artifact?.digest).not.toBe(artifact?.digest);
  });

  it("Given wrong credentials / should report FetchFailed with AuthenticationFailed and not leak the password", async () => {
    await create("bad", { url: `${git.url}/app.git`, ref: { branch: "main" }, secretRef: { name: "bad-auth" } });
    const obj = await eventually(
      async () => {
        const o = await get("bad");
        return o && getCondition(o, "FetchFailed")?.status === "True" ? o : undefined;
      },
      { what: "FetchFailed" },
    );
    expect(getCondition(obj, "FetchFailed")?.reason).toBe("AuthenticationFailed");
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "False", reason: "AuthenticationFailed" });
    expect(JSON.stringify(obj)).not.toContain("wrong-reconciler-pass");
  });

  it("Given an include / should copy the included artifact in at toPath, and record observedInclude", async () => {
    await create("lib", { url: `${git.url}/lib.git`, ref: { branch: "main" }, secretRef: { name: "git-auth" } });
    await create("with-lib", {
      url: `${git.url}/app.git`,
      ref: { branch: "main" },
      secretRef: { name: "git-auth" },
      include: [{ repository: { name: "lib" }, fromPath: "manifests", toPath: "vendor/lib" }],
    });
    const obj = await eventually(
      async () => {
        const o = await get("with-lib");
        return o && getCondition(o, "Ready")?.status === "True" ? o : undefined;
      },
      { what: "with-lib Ready" },
    );
    expect(obj.status?.observedInclude).toEqual([
      { repository: { name: "lib" }, fromPath: "manifests", toPath: "vendor/lib" },
    ]);
    expect(obj.status?.includedArtifacts?.[0]?.revision).toMatch(/^main@sha1:/);
    const out = join(work, "extract-with-lib");
    await mkdir(out);
    await writeFile(join(work, "b.tgz"), await download(obj.status?.artifact?.url ?? ""));
    await extract({ file: join(work, "b.tgz"), cwd: out });
    expect(await readFile(join(out, "vendor", "lib", "lib.yaml"), "utf8")).toBe("lib: 1\n");
  });

  it("Given a deleted GitRepository / should remove its artifacts from storage", async () => {
    const obj = await eventually(async () => (await get("app"))?.status?.artifact, { what: "app artifact" });
    const dir = storage.localPath(`gitrepository/${ns.name}/app`);
    await access(storage.localPath(obj.path));
    await client.delete(ref("app"));
    await eventually(async () => (await get("app")) === undefined, { what: "app gone" });
    await expect(access(dir)).rejects.toThrow();
  });
});
