// The artifact's life against the real kube-apiserver: the Events Flux emits (NewArtifact with its annotations,
// ArtifactVerificationFailed), a corrupted or deleted file rebuilt, submodules, and fetching through a proxy.
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { startTestProxy, type TestProxy } from "@capstan/gitserver";
import { getCondition, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";

const proxyPassword = "proxy-pass-do-not-leak";
let h: GitRepositoryHarness;
let proxy: TestProxy;

beforeAll(async () => {
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "gitrepo-artifact",
    specDefaults: { ref: { branch: "main" } },
  });
  proxy = await startTestProxy({ username: "proxy-user", password: proxyPassword });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await h?.stop();
});

const readyAt = (name: string, commit: string) => h.readyAt(name, `main@sha1:${commit}`);

/** A GitRepository `name` on a one-commit repository of its own, Ready: its status.artifact. */
async function storedArtifact(name: string) {
  const app = await h.repo(`${name}.git`);
  const head = await app.commit({ "app.yaml": "v: 1\n" });
  await h.create(name, { url: `${h.git.url}/${name}.git` });
  const artifact = (await readyAt(name, head)).status?.artifact;
  if (!artifact) throw new Error("no artifact");
  return artifact;
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
  const type = await h.client.resourceFor("v1", "Event");
  const { items } = await h.client.list<CoreEvent>(type, {
    namespace: h.ns.name,
    fieldSelector: `involvedObject.kind=GitRepository,involvedObject.name=${name}`,
  });
  return items;
}

describe("GitRepository artifact events", () => {
  it("Given new commits / should emit one NewArtifact Event per new digest, with Flux's message and annotations", async () => {
    const app = await h.repo("events.git");
    const first = await app.commit(
      { "app.yaml": "v: 1\n" },
      { message: "feat: the first release of the app, with a subject longer than fifty\n\nbody" },
    );
    await h.create("events", { url: `${h.git.url}/events.git` });
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
    await h.requestReconcile("events", "same");
    expect((await newArtifacts()).map((e) => e.count ?? 1)).toEqual([1]);

    const second = await app.commit({ "app.yaml": "v: 2\n" }, { message: "fix: v2" });
    await h.requestReconcile("events", "next");
    const updated = await readyAt("events", second);
    const latest = await eventually(async () =>
      (await newArtifacts()).find(
        (e) => e.metadata.annotations?.["source.toolkit.fluxcd.io/revision"] === `main@sha1:${second}`,
      ),
    );
    expect(latest.message).toBe("stored artifact for commit 'fix: v2'");
    expect(latest.metadata.annotations?.["source.toolkit.fluxcd.io/digest"]).toBe(updated.status?.artifact?.digest);
    // As Flux's notify: a pass that stores an artifact says so once; Ready's Event (Succeeded) marks a recovery only.
    expect((await eventsFor("events")).filter((e) => e.reason !== "NewArtifact").map((e) => e.reason)).toEqual([]);
  });
});

describe("GitRepository stored artifact checks", () => {
  it("Given a stored artifact whose bytes were altered / should warn ArtifactVerificationFailed and rebuild it", async () => {
    const artifact = await storedArtifact("corrupt");
    await writeFile(h.storage.localPath(artifact.path), "not the artifact");

    const after = await h.requestReconcile("corrupt", "check");
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
    expect(sha256(await h.download(artifact.url))).toBe(artifact.digest);
    // Same digest as before: Flux does not announce it as a new artifact.
    expect((await eventsFor("corrupt")).filter((e) => e.reason === "NewArtifact")).toHaveLength(1);
  });

  it("Given a stored artifact file that was deleted / should build it again on the next reconcile", async () => {
    const artifact = await storedArtifact("deleted");
    await rm(h.storage.localPath(artifact.path));

    const after = await h.requestReconcile("deleted", "check");
    expect(after.status?.artifact?.path).toBe(artifact.path);
    await access(h.storage.localPath(artifact.path));
    expect(sha256(await h.download(artifact.url))).toBe(after.status?.artifact?.digest);
  });
});

describe("GitRepository recurseSubmodules", () => {
  it("Given a submodule / should include its files only when recurseSubmodules is true", async () => {
    const lib = await h.repo("sublib.git");
    await lib.commit({ "lib.yaml": "lib: 1\n" });
    const main = await h.repo("super.git");
    await main.commit({ "app.yaml": "v: 1\n" });
    await main.git(["submodule", "add", "-q", `${h.git.url}/sublib.git`, "vendor/lib"]);
    const head = await main.commit({}, { message: "add submodule" });

    await h.create("super", { url: `${h.git.url}/super.git`, recurseSubmodules: true });
    await h.create("super-flat", { url: `${h.git.url}/super.git` });
    const withSubmodules = await readyAt("super", head);
    const flat = await readyAt("super-flat", head);
    expect(withSubmodules.status?.observedRecurseSubmodules).toBe(true);
    expect(flat.status?.observedRecurseSubmodules).toBeUndefined();

    const deep = await h.extractArtifact(withSubmodules, "super");
    expect(await readFile(join(deep, "vendor", "lib", "lib.yaml"), "utf8")).toBe("lib: 1\n");
    expect(await readFile(join(deep, "app.yaml"), "utf8")).toBe("v: 1\n");
    const shallow = await h.extractArtifact(flat, "super-flat");
    await expect(access(join(shallow, "vendor", "lib", "lib.yaml"))).rejects.toThrow();
  });
});

describe("GitRepository proxySecretRef", () => {
  it("Given a proxy Secret / should fetch through the proxy, and report a refused proxy login without its password", async () => {
    const app = await h.repo("proxied.git");
    const head = await app.commit({ "app.yaml": "v: 1\n" });
    for (const [name, password] of [
      ["proxy", proxyPassword],
      ["bad-proxy", "wrong-proxy-pass-do-not-leak"],
    ] as const) {
      await h.client.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: h.ns.name },
        stringData: { address: proxy.url, username: "proxy-user", password },
      });
    }
    await h.create("proxied", { url: `${h.git.url}/proxied.git`, proxySecretRef: { name: "proxy" } });
    await readyAt("proxied", head);
    const through = proxy.requests.filter((r) => r.allowed && r.line.includes("/proxied.git/"));
    expect(through.some((r) => r.line.startsWith(`GET ${h.git.url}/proxied.git/info/refs`))).toBe(true);
    expect(through.some((r) => r.line.startsWith(`POST ${h.git.url}/proxied.git/git-upload-pack`))).toBe(true);

    await h.create("bad-proxied", { url: `${h.git.url}/proxied.git`, proxySecretRef: { name: "bad-proxy" } });
    const failed = await eventually(async () => {
      const o = await h.get("bad-proxied");
      return o && getCondition(o, "FetchFailed")?.status === "True" ? o : undefined;
    });
    expect(getCondition(failed, "Ready")?.status).toBe("False");
    expect(proxy.requests.some((r) => !r.allowed)).toBe(true);
    expect(JSON.stringify(failed)).not.toContain("wrong-proxy-pass-do-not-leak");
    // The Warning Event is recorded after the status write: wait for it rather than read once.
    const events = await eventually(
      async () => {
        const found = await eventsFor("bad-proxied");
        return found.length > 0 ? found : undefined;
      },
      { what: "a Warning Event for bad-proxied" },
    );
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain("wrong-proxy-pass-do-not-leak");
  });
});
