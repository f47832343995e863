// The artifact's life against the real kube-apiserver: the Events Flux emits (NewArtifact with its annotations,
// ArtifactVerificationFailed), a corrupted or deleted file rebuilt, submodules, and fetching through a proxy.
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
import { getCondition, KubeClient, type KubeObject, Manager, parseFlags } from "@capstan/runtime";
import { x as extract } from "tar";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controllerName, sourceControllerFlags } from "../flags.js";
import { type ArtifactServer, startArtifactServer } from "../server/server.js";
import { Storage } from "../storage/storage.js";
import {
  createTestRepo,
  type GitHttpServer,
  startGitHttpServer,
  startTestProxy,
  type TestProxy,
  type TestRepo,
} from "../testing/index.js";
import { gitRepositoryReconciler } from "./definition.js";
import type { GitRepositoryObject } from "./state.js";

const proxyPassword = "proxy-pass-do-not-leak";
let work: string;
let gitRoot: string;
let git: GitHttpServer;
let proxy: TestProxy;
const repos: TestRepo[] = [];
let artifacts: ArtifactServer;
let storage: Storage;
let client: KubeClient;
let ns: TestNamespace;
let manager: Manager;
let running: Promise<void>;

beforeAll(async () => {
  const kubeconfigPath = testKubeconfigPath(inject("capstanKubeconfig"));
  await ensureCrds(kubeconfigPath);
  work = await mkdtemp(join(tmpdir(), "capstan-artifact-int-"));
  gitRoot = join(work, "git");
  git = await startGitHttpServer({ root: gitRoot });
  proxy = await startTestProxy({ username: "proxy-user", password: proxyPassword });
  await mkdir(join(work, "storage"), { recursive: true });
  artifacts = await startArtifactServer({ root: join(work, "storage"), address: "127.0.0.1:0" });
  storage = new Storage({ root: join(work, "storage"), advertisedAddress: `127.0.0.1:${artifacts.port}` });
  client = new KubeClient({ kubeconfigPath });
  ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), "gitrepo-artifact");
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
  await proxy?.close();
  await git?.close();
  for (const r of repos) await rm(r.work, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

async function repo(name: string): Promise<TestRepo> {
  const r = await createTestRepo(gitRoot, name, "main");
  repos.push(r);
  return r;
}

const ref = (name: string) => ({
  apiVersion: gitRepositoryType.apiVersion,
  kind: "GitRepository",
  namespace: ns.name,
  name,
});
const get = (name: string) => client.get<GitRepositoryObject>(ref(name));

async function create(name: string, spec: Record<string, unknown>): Promise<void> {
  await client.create({
    apiVersion: gitRepositoryType.apiVersion,
    kind: "GitRepository",
    metadata: { name, namespace: ns.name },
    spec: { interval: "10m", ref: { branch: "main" }, ...spec },
  });
}

async function readyAt(name: string, commit: string): Promise<GitRepositoryObject> {
  return eventually(
    async () => {
      const obj = await get(name);
      const ready = obj && getCondition(obj, "Ready");
      return ready?.status === "True" && obj?.status?.artifact?.revision === `main@sha1:${commit}` ? obj : undefined;
    },
    { timeoutMs: 30_000, what: `${name} Ready at ${commit}` },
  );
}

/** Sets reconcile.fluxcd.io/requestedAt and waits until the controller has handled that request. */
async function requestReconcile(name: string, token: string): Promise<GitRepositoryObject> {
  await client.mergePatch(ref(name), { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } });
  return eventually(
    async () => {
      const obj = await get(name);
      return obj?.status?.lastHandledReconcileAt === token ? obj : undefined;
    },
    { what: `${name} handled ${token}` },
  );
}

type CoreEvent = KubeObject & {
  type: string;
  reason: string;
  message: string;
  count?: number;
  source?: { component?: string };
};

// What `kubectl events --for GitRepository/<name>` asks the apiserver for.
async function eventsFor(name: string): Promise<CoreEvent[]> {
  const type = await client.resourceFor("v1", "Event");
  const { items } = await client.list<CoreEvent>(type, {
    namespace: ns.name,
    fieldSelector: `involvedObject.kind=GitRepository,involvedObject.name=${name}`,
  });
  return items;
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function extractArtifact(obj: GitRepositoryObject, into: string): Promise<string> {
  const out = join(work, into);
  await mkdir(out);
  await writeFile(`${out}.tgz`, await download(obj.status?.artifact?.url ?? ""));
  await extract({ file: `${out}.tgz`, cwd: out });
  return out;
}

describe("GitRepository artifact events", () => {
  it("Given new commits / should emit one NewArtifact Event per new digest, with Flux's message and annotations", async () => {
    const app = await repo("events.git");
    const first = await app.commit(
      { "app.yaml": "v: 1\n" },
      { message: "feat: the first release of the app, with a subject longer than fifty\n\nbody" },
    );
    await create("events", { url: `${git.url}/events.git` });
    const obj = await readyAt("events", first);
    const newArtifacts = async () => (await eventsFor("events")).filter((e) => e.reason === "NewArtifact");
    const [event] = await eventually(async () => {
      const found = await newArtifacts();
      return found.length ? found : undefined;
    });
    expect(event).toMatchObject({
      type: "Normal",
      message: "stored artifact for commit 'feat: the first release of the app, with a subject...'",
      source: { component: "source-controller" },
    });
    expect(event?.metadata.annotations).toMatchObject({
      "source.toolkit.fluxcd.io/revision": `main@sha1:${first}`,
      "source.toolkit.fluxcd.io/digest": obj.status?.artifact?.digest,
    });

    // A reconcile that finds the same revision is no news.
    await requestReconcile("events", "same");
    expect((await newArtifacts()).map((e) => e.count ?? 1)).toEqual([1]);

    const second = await app.commit({ "app.yaml": "v: 2\n" }, { message: "fix: v2" });
    await requestReconcile("events", "next");
    const updated = await readyAt("events", second);
    const latest = await eventually(async () =>
      (await newArtifacts()).find(
        (e) => e.metadata.annotations?.["source.toolkit.fluxcd.io/revision"] === `main@sha1:${second}`,
      ),
    );
    expect(latest.message).toBe("stored artifact for commit 'fix: v2'");
    expect(latest.metadata.annotations?.["source.toolkit.fluxcd.io/digest"]).toBe(updated.status?.artifact?.digest);
  });
});

describe("GitRepository stored artifact checks", () => {
  it("Given a stored artifact whose bytes were altered / should warn ArtifactVerificationFailed and rebuild it", async () => {
    const app = await repo("corrupt.git");
    const head = await app.commit({ "app.yaml": "v: 1\n" });
    await create("corrupt", { url: `${git.url}/corrupt.git` });
    const before = await readyAt("corrupt", head);
    const artifact = before.status?.artifact;
    if (!artifact) throw new Error("no artifact");
    await writeFile(storage.localPath(artifact.path), "not the artifact");

    const after = await requestReconcile("corrupt", "check");
    const warning = await eventually(async () =>
      (await eventsFor("corrupt")).find((e) => e.reason === "ArtifactVerificationFailed"),
    );
    expect(warning).toMatchObject({
      type: "Warning",
      message: `failed to verify integrity of artifact: computed digest doesn't match '${artifact.digest}'`,
    });
    // Rebuilt from the same commit: the same reproducible bytes, served again under the recorded digest.
    expect(after.status?.artifact?.digest).toBe(artifact.digest);
    expect(getCondition(after, "Ready")?.status).toBe("True");
    expect(sha256(await download(artifact.url))).toBe(artifact.digest);
    // Same digest as before: Flux does not announce it as a new artifact.
    expect((await eventsFor("corrupt")).filter((e) => e.reason === "NewArtifact")).toHaveLength(1);
  });

  it("Given a stored artifact file that was deleted / should build it again on the next reconcile", async () => {
    const app = await repo("deleted.git");
    const head = await app.commit({ "app.yaml": "v: 1\n" });
    await create("deleted", { url: `${git.url}/deleted.git` });
    const before = await readyAt("deleted", head);
    const artifact = before.status?.artifact;
    if (!artifact) throw new Error("no artifact");
    await rm(storage.localPath(artifact.path));

    const after = await requestReconcile("deleted", "check");
    expect(after.status?.artifact?.path).toBe(artifact.path);
    await access(storage.localPath(artifact.path));
    expect(sha256(await download(artifact.url))).toBe(after.status?.artifact?.digest);
  });
});

describe("GitRepository recurseSubmodules", () => {
  it("Given a submodule / should include its files only when recurseSubmodules is true", async () => {
    const lib = await repo("sublib.git");
    await lib.commit({ "lib.yaml": "lib: 1\n" });
    const main = await repo("super.git");
    await main.commit({ "app.yaml": "v: 1\n" });
    await main.git(["submodule", "add", "-q", `${git.url}/sublib.git`, "vendor/lib"]);
    const head = await main.commit({}, { message: "add submodule" });

    await create("super", { url: `${git.url}/super.git`, recurseSubmodules: true });
    await create("super-flat", { url: `${git.url}/super.git` });
    const withSubmodules = await readyAt("super", head);
    const flat = await readyAt("super-flat", head);
    expect(withSubmodules.status?.observedRecurseSubmodules).toBe(true);
    expect(flat.status?.observedRecurseSubmodules).toBeUndefined();

    const deep = await extractArtifact(withSubmodules, "super");
    expect(await readFile(join(deep, "vendor", "lib", "lib.yaml"), "utf8")).toBe("lib: 1\n");
    expect(await readFile(join(deep, "app.yaml"), "utf8")).toBe("v: 1\n");
    const shallow = await extractArtifact(flat, "super-flat");
    await expect(access(join(shallow, "vendor", "lib", "lib.yaml"))).rejects.toThrow();
  });
});

describe("GitRepository proxySecretRef", () => {
  it("Given a proxy Secret / should fetch through the proxy, and report a refused proxy login without its password", async () => {
    const app = await repo("proxied.git");
    const head = await app.commit({ "app.yaml": "v: 1\n" });
    for (const [name, password] of [
      ["proxy", proxyPassword],
      ["bad-proxy", "wrong-proxy-pass-do-not-leak"],
    ] as const) {
      await client.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: ns.name },
        stringData: { address: proxy.url, username: "proxy-user", password },
      });
    }
    await create("proxied", { url: `${git.url}/proxied.git`, proxySecretRef: { name: "proxy" } });
    await readyAt("proxied", head);
    const through = proxy.requests.filter((r) => r.allowed && r.line.includes("/proxied.git/"));
    expect(through.some((r) => r.line.startsWith(`GET ${git.url}/proxied.git/info/refs`))).toBe(true);
    expect(through.some((r) => r.line.startsWith(`POST ${git.url}/proxied.git/git-upload-pack`))).toBe(true);

    await create("bad-proxied", { url: `${git.url}/proxied.git`, proxySecretRef: { name: "bad-proxy" } });
    const failed = await eventually(async () => {
      const o = await get("bad-proxied");
      return o && getCondition(o, "FetchFailed")?.status === "True" ? o : undefined;
    });
    expect(getCondition(failed, "Ready")?.status).toBe("False");
    expect(proxy.requests.some((r) => !r.allowed)).toBe(true);
    expect(JSON.stringify(failed)).not.toContain("wrong-proxy-pass-do-not-leak");
    const events = await eventsFor("bad-proxied");
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain("wrong-proxy-pass-do-not-leak");
  });
});
