// (Capstan) GitRepositories of one URL, ref and credentials share one archive (share.ts) and one ls-remote per
// request (GitCache.listing), against the real kube-apiserver: each object still has its own artifact path, URL and
// status, content settings that differ give their own archive, and a push is seen by every requested reconcile.
import { stat, writeFile } from "node:fs/promises";
import { testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";

let h: GitRepositoryHarness;

beforeAll(async () => {
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "gitrepo-share",
    specDefaults: { ref: { branch: "main" } },
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe("GitRepositories of one URL, ref and credentials", () => {
  it("Given three alike and one with spec.ignore / should link one archive to three paths and build the fourth, then follow a push", async () => {
    const app = await h.repo("shared.git");
    const first = await app.commit({ "app.yaml": "v: 1\n", "README.md": "docs\n" });
    const url = `${h.git.url}/shared.git`;
    const names = ["one", "two", "three"];
    await Promise.all([...names.map((n) => h.create(n, { url })), h.create("ignoring", { url, ignore: "*.md\n" })]);
    const objs = await Promise.all(names.map((n) => h.readyAt(n, `main@sha1:${first}`)));
    const ignoring = await h.readyAt("ignoring", `main@sha1:${first}`);

    const artifacts = objs.map((o) => o.status?.artifact);
    const paths = artifacts.map((a) => a?.path);
    expect(paths).toEqual(names.map((n) => `gitrepository/${h.ns.name}/${n}/${first}.tar.gz`));
    expect(new Set(artifacts.map((a) => a?.url)).size).toBe(3);
    expect(new Set(artifacts.map((a) => a?.digest)).size).toBe(1);
    // One archive on disk: the three paths are one file (hard links), each served at its own URL with that digest.
    const inodes = await Promise.all(paths.map(async (p) => (await stat(h.storage.localPath(p ?? ""))).ino));
    expect(new Set(inodes).size).toBe(1);
    for (const a of artifacts) expect(sha256(await h.download(a?.url ?? ""))).toBe(a?.digest);
    // Other content settings, other archive: README.md left out.
    const other = ignoring.status?.artifact;
    expect(other?.digest).not.toBe(artifacts[0]?.digest);
    const files = await h.extractArtifact(ignoring, "ignoring");
    await expect(stat(`${files}/README.md`)).rejects.toThrow();
    expect((await stat(`${files}/app.yaml`)).isFile()).toBe(true);

    // A push, then a requested reconcile of each: every one lists the remote after its request, none keeps `first`.
    const second = await app.commit({ "app.yaml": "v: 2\n" });
    for (const n of names) {
      const obj = await h.requestReconcile(n, `push-${n}`);
      expect(obj.status?.artifact?.revision).toBe(`main@sha1:${second}`);
    }
  });

  it("Given a shared archive corrupted on disk / should rebuild it rather than link the corrupted bytes again", async () => {
    const app = await h.repo("corrupt.git");
    const head = await app.commit({ "app.yaml": "v: 1\n" });
    const url = `${h.git.url}/corrupt.git`;
    await h.create("c-one", { url });
    const one = (await h.readyAt("c-one", `main@sha1:${head}`)).status?.artifact;
    await h.create("c-two", { url });
    const two = (await h.readyAt("c-two", `main@sha1:${head}`)).status?.artifact;
    expect(two?.digest).toBe(one?.digest);
    // Both names are one file: corrupting it corrupts both; each must come back with the right bytes.
    await writeFile(h.storage.localPath(one?.path ?? ""), "not a tarball");
    for (const n of ["c-one", "c-two"]) {
      const obj = await h.requestReconcile(n, `verify-${n}`);
      const artifact = obj.status?.artifact;
      expect(artifact?.digest).toBe(one?.digest);
      expect(sha256(await h.download(artifact?.url ?? ""))).toBe(one?.digest);
    }
  });
});
