// The GitRepository reconciler inside one process against the real kube-apiserver: real git server, real storage,
// the artifact server and the runtime's Manager.
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import type { TestRepo } from "@capstan/gitserver";
import { getCondition } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";

const password = "reconciler-pass-do-not-leak";
let h: GitRepositoryHarness;
let repo: TestRepo;

beforeAll(async () => {
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "gitrepo",
    basicAuth: { username: "capstan", password },
    secrets: {
      "git-auth": { username: "capstan", password },
      "bad-auth": { username: "capstan", password: "wrong-reconciler-pass" },
    },
  });
  repo = await h.repo("app.git");
  await repo.commit({ "deploy/app.yaml": "v: 1\n", "logo.png": "png" });
  const libRepo = await h.repo("lib.git");
  await libRepo.commit({ "manifests/lib.yaml": "lib: 1\n" });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe("GitRepository reconciler", () => {
  it("Given a repository and credentials / should store a verified artifact, serve it, and follow new commits", async () => {
    await h.create("app", { url: `${h.git.url}/app.git`, ref: { branch: "main" }, secretRef: { name: "git-auth" } });
    const head = (await repo.git(["rev-parse", "HEAD"])).trim();
    const obj = await h.readyAt("app", `main@sha1:${head}`);
    const artifact = obj.status?.artifact;
    expect(artifact?.path).toBe(`gitrepository/${h.ns.name}/app/${head}.tar.gz`);
    expect(artifact?.url).toBe(`http://127.0.0.1:${h.artifacts.port}/gitrepository/${h.ns.name}/app/${head}.tar.gz`);
    expect(getCondition(obj, "ArtifactInStorage")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(getCondition(obj, "Ready")?.message).toBe(`stored artifact for revision 'main@sha1:${head}'`);
    expect(obj.status?.observedGeneration).toBe(obj.metadata.generation);

    const bytes = await h.download(artifact?.url ?? "");
    expect(sha256(bytes)).toBe(artifact?.digest);
    expect(bytes.length).toBe(artifact?.size);
    const out = await h.unpack(bytes, "extract-app");
    expect(await readFile(join(out, "deploy", "app.yaml"), "utf8")).toBe("v: 1\n");
    await expect(access(join(out, "logo.png"))).rejects.toThrow(); // Flux's default exclusions

    // Unchanged remote: a requested reconcile costs one ls-remote and no fetch.
    const infoRefs = () => h.git.requests.filter((r) => r.authorized && r.path.includes("/app.git/info/refs")).length;
    const before = infoRefs();
    await h.requestReconcile("app", "one");
    expect(infoRefs() - before).toBe(1);

    const next = await repo.commit({ "deploy/app.yaml": "v: 2\n" });
    await h.client.mergePatch(h.ref("app"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "two" } },
    });
    const updated = await h.readyAt("app", `main@sha1:${next}`);
    expect(updated.status?.artifact?.digest).not.toBe(artifact?.digest);
  });

  it("Given wrong credentials / should report FetchFailed with AuthenticationFailed and not leak the password", async () => {
    await h.create("bad", { url: `${h.git.url}/app.git`, ref: { branch: "main" }, secretRef: { name: "bad-auth" } });
    const obj = await eventually(
      async () => {
        const o = await h.get("bad");
        return o && getCondition(o, "FetchFailed")?.status === "True" ? o : undefined;
      },
      { what: "FetchFailed" },
    );
    expect(getCondition(obj, "FetchFailed")?.reason).toBe("AuthenticationFailed");
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "False", reason: "AuthenticationFailed" });
    expect(JSON.stringify(obj)).not.toContain("wrong-reconciler-pass");
  });

  it("Given an include / should copy the included artifact in at toPath, and record observedInclude", async () => {
    await h.create("lib", { url: `${h.git.url}/lib.git`, ref: { branch: "main" }, secretRef: { name: "git-auth" } });
    await h.create("with-lib", {
      url: `${h.git.url}/app.git`,
      ref: { branch: "main" },
      secretRef: { name: "git-auth" },
      include: [{ repository: { name: "lib" }, fromPath: "manifests", toPath: "vendor/lib" }],
    });
    const obj = await eventually(
      async () => {
        const o = await h.get("with-lib");
        return o && getCondition(o, "Ready")?.status === "True" ? o : undefined;
      },
      { what: "with-lib Ready" },
    );
    expect(obj.status?.observedInclude).toEqual([
      { repository: { name: "lib" }, fromPath: "manifests", toPath: "vendor/lib" },
    ]);
    expect(obj.status?.includedArtifacts?.[0]?.revision).toMatch(/^main@sha1:/);
    const out = await h.extractArtifact(obj, "extract-with-lib");
    expect(await readFile(join(out, "vendor", "lib", "lib.yaml"), "utf8")).toBe("lib: 1\n");
  });

  it("Given a deleted GitRepository / should remove its artifacts from storage", async () => {
    const obj = await eventually(async () => (await h.get("app"))?.status?.artifact, { what: "app artifact" });
    const dir = h.storage.localPath(`gitrepository/${h.ns.name}/app`);
    await access(h.storage.localPath(obj.path));
    await h.client.delete(h.ref("app"));
    await eventually(async () => (await h.get("app")) === undefined, { what: "app gone" });
    await expect(access(dir)).rejects.toThrow();
  });
});
