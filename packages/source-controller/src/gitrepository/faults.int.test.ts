// Bad input and failing dependencies against the real kube-apiserver and a real git server: one GitRepository per
// row, each must end Ready=False with Flux's reason on Flux's condition and a message a user can act on, Stalled only
// where a retry cannot help; meanwhile the controller keeps serving the last good artifact, keeps reconciling other
// objects, recovers by itself once a transient fault is gone, and never prints a credential.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gitRepositoryType } from "@capstan/api";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { freePort, type TestRepo } from "@capstan/gitserver";
import { createLogger, getCondition, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";
import type { GitRepositoryObject } from "./state.js";

const username = "capstan";
const password = "faults-pass-do-not-leak";
const wrongPassword = "faults-wrong-pass-do-not-leak";
const maxSize = 64 * 1024;

let h: GitRepositoryHarness;
const repos = new Map<string, TestRepo>();
const logLines: string[] = [];

async function repo(name: string, files: Record<string, string> | undefined): Promise<TestRepo> {
  const r = await h.repo(`${name}.git`);
  repos.set(name, r);
  if (files) await r.commit(files, { message: `first commit of ${name}` });
  return r;
}

beforeAll(async () => {
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "gitrepo-faults",
    basicAuth: { username, password },
    secrets: {
      "git-auth": { username, password },
      "bad-auth": { username, password: wrongPassword },
    },
    specDefaults: { ref: { branch: "main" }, secretRef: { name: "git-auth" } },
    artifactMaxSize: maxSize,
    // Debug level: every line the controller could print is searched for credentials at the end.
    logger: createLogger({ level: "debug", destination: { write: (line: string) => logLines.push(line) } }),
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

/** A repository on branch main whose GitRepository looks for branch "nope". */
async function missingBranch(name: string): Promise<Record<string, unknown>> {
  await repo(name, { "a.yaml": "a: 1\n" });
  return { url: `${h.git.url}/${name}.git`, ref: { branch: "nope" } };
}

/** A tagged repository whose GitRepository has a semver range that does not parse (stalls). */
async function malformedSemver(name: string): Promise<Record<string, unknown>> {
  const r = await repo(name, { "a.yaml": "a: 1\n" });
  await r.tag("v1.0.0");
  return { url: `${h.git.url}/${name}.git`, ref: { semver: ">= one.two" } };
}

/** A healthy repository with a file where the GitRepository's artifact directory must go. */
async function blockedStorage(name: string): Promise<Record<string, unknown>> {
  await repo(name, { "a.yaml": "a: 1\n" });
  const blocker = h.storage.localPath(`gitrepository/${h.ns.name}/${name}`);
  await mkdir(dirname(blocker), { recursive: true });
  await writeFile(blocker, "not a directory");
  return { url: `${h.git.url}/${name}.git` };
}

/** info/refs requests the git server saw for one repository: one per ls-remote, i.e. one per reconcile. */
const lsRemotes = (repoName: string) =>
  h.git.requests.filter((r) => r.path.startsWith(`/${repoName}.git/info/refs`)).length;

interface Row {
  name: string;
  given: string;
  setup?: () => Promise<Record<string, unknown>>;
  spec?: Record<string, unknown>;
  condition: "FetchFailed" | "StorageOperationFailed";
  reason: string;
  message: RegExp;
  stalled: boolean;
}

const rows: Row[] = [
  {
    name: "bad-url",
    given: "a URL that passes the CRD pattern but does not parse",
    spec: { url: "http://exa mple.com/app.git" },
    condition: "FetchFailed",
    reason: "URLInvalid",
    message: /invalid URL: must be http:\/\/, https:\/\/ or ssh:\/\//,
    stalled: true,
  },
  {
    name: "unreachable",
    given: "a closed loopback port",
    setup: async () => {
      await repo("unreachable", { "a.yaml": "a: 1\n" });
      return { url: `http://127.0.0.1:${await freePort()}/unreachable.git` };
    },
    condition: "FetchFailed",
    reason: "GitOperationFailed",
    message: /Failed to connect|Connection refused|Could not connect/i,
    stalled: false,
  },
  {
    name: "bad-creds",
    given: "wrong credentials",
    setup: async () => {
      await repo("bad-creds", { "a.yaml": "a: 1\n" });
      return { url: `${h.git.url}/bad-creds.git`, secretRef: { name: "bad-auth" } };
    },
    condition: "FetchFailed",
    reason: "AuthenticationFailed",
    message: /check the credentials in the Secret named by spec\.secretRef/,
    stalled: false,
  },
  {
    name: "no-branch",
    given: "a branch that does not exist",
    setup: () => missingBranch("no-branch"),
    condition: "FetchFailed",
    reason: "GitOperationFailed",
    message: /branch 'nope' not found in the remote repository \(check spec\.ref\)/,
    stalled: false,
  },
  {
    name: "no-tag",
    given: "a tag that does not exist",
    setup: async () => {
      await repo("no-tag", { "a.yaml": "a: 1\n" });
      return { url: `${h.git.url}/no-tag.git`, ref: { tag: "v9.9.9" } };
    },
    condition: "FetchFailed",
    reason: "GitOperationFailed",
    message: /tag 'v9\.9\.9' not found in the remote repository/,
    stalled: false,
  },
  {
    name: "empty",
    given: "an empty repository",
    setup: async () => {
      await repo("empty", undefined);
      return { url: `${h.git.url}/empty.git` };
    },
    condition: "FetchFailed",
    reason: "EmptyGitRepository",
    message: /remote repository is empty: push a first commit/,
    stalled: false,
  },
  {
    name: "bad-semver",
    given: "a malformed semver range",
    setup: () => malformedSemver("bad-semver"),
    condition: "FetchFailed",
    reason: "GitOperationFailed",
    message: /invalid semver range '>= one\.two'/,
    stalled: true,
  },
  {
    name: "no-semver-match",
    given: "no tag matching the semver range",
    setup: async () => {
      const r = await repo("no-semver-match", { "a.yaml": "a: 1\n" });
      await r.tag("v1.0.0");
      return { url: `${h.git.url}/no-semver-match.git`, ref: { semver: ">=9.0.0" } };
    },
    condition: "FetchFailed",
    reason: "GitOperationFailed",
    message: /no tag matches the semver range '>=9\.0\.0'/,
    stalled: false,
  },
  {
    name: "symlink-escape",
    given: "a symlink pointing outside the repository",
    setup: async () => {
      const r = await repo("symlink-escape", { "a.yaml": "a: 1\n" });
      await symlink("/etc/passwd", join(r.work, "passwd"));
      await r.commit({}, { message: "link out" });
      return { url: `${h.git.url}/symlink-escape.git` };
    },
    condition: "StorageOperationFailed",
    reason: "InvalidPath",
    message: /symlink 'passwd' points outside the repository/,
    stalled: false,
  },
  {
    name: "too-large",
    given: "a repository larger than --artifact-max-size",
    setup: async () => {
      await repo("too-large", { "blob.yaml": randomBytes(maxSize * 2).toString("base64") });
      return { url: `${h.git.url}/too-large.git` };
    },
    condition: "StorageOperationFailed",
    reason: "ArchiveOperationFailed",
    message: /artifact exceeds the size limit of 65536 bytes \(--artifact-max-size\)/,
    stalled: false,
  },
  {
    name: "storage-blocked",
    given: "a file where the artifact directory must go",
    setup: () => blockedStorage("storage-blocked"),
    condition: "StorageOperationFailed",
    reason: "DirectoryCreationFailed",
    message: /create artifact directory: (a file is in the way of a directory|a path component is not a directory)/,
    stalled: false,
  },
];

describe("GitRepository faults", () => {
  it("Given a healthy repository / should become Ready (the control for every row below)", async () => {
    const r = await repo("healthy", undefined);
    const head = await r.commit({ "a.yaml": "a: 1\n" });
    await h.create("healthy", { url: `${h.git.url}/healthy.git` });
    const obj = await h.readyAt("healthy", `main@sha1:${head}`);
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(obj.status?.observedGeneration).toBe(obj.metadata.generation);
  });

  it.each(rows)("Given $given / should be Ready=False with $reason on $condition", async (row) => {
    const spec = { ...(row.spec ?? {}), ...((await row.setup?.()) ?? {}) };
    await h.create(row.name, spec);
    const obj = await h.failing(row.name, row.reason);
    expect(getCondition(obj, row.condition)).toMatchObject({ status: "True", reason: row.reason });
    expect(getCondition(obj, row.condition)?.message).toMatch(row.message);
    expect(getCondition(obj, "Ready")?.message).toMatch(row.message);
    expect(obj.status?.artifact).toBeUndefined();
    expect(getCondition(obj, "Stalled")?.status === "True").toBe(row.stalled);
    if (!row.stalled) expect(getCondition(obj, "Reconciling")?.status).toBe("True");
    expect(obj.status?.observedGeneration === obj.metadata.generation).toBe(row.stalled);
  });

  it("Given a .sourceignore of binary junk and invalid patterns / should build the artifact, applying the valid lines as Flux does", async () => {
    // Deterministic junk: every byte value, in an order that puts no short pattern on a line of its own.
    const bytes = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 131 + 7) % 256));
    const junk = Buffer.concat([
      bytes,
      Buffer.from("\n[z-a]\n\\\n**/[\n!\n\u0000\u0001\n\xff\xfe\nsecret.yaml\n"),
      bytes,
    ]);
    const r = await repo("garbage-ignore", { "app.yaml": "app: 1\n", "secret.yaml": "s: 1\n" });
    await writeFile(join(r.work, ".sourceignore"), junk);
    await r.commit({}, { message: "junk ignore" });
    await h.create("garbage-ignore", { url: `${h.git.url}/garbage-ignore.git` });
    const obj = await h.ready("garbage-ignore");
    const out = await h.extractArtifact(obj, "extract-garbage-ignore");
    expect(await readFile(join(out, "app.yaml"), "utf8")).toBe("app: 1\n");
    await expect(readFile(join(out, "secret.yaml"))).rejects.toThrow();
  });

  it("Given a secretRef naming a missing Secret / should fail with AuthenticationFailed, then recover by itself once the Secret exists", async () => {
    await repo("late-secret", { "a.yaml": "a: 1\n" });
    await h.create("late-secret", { url: `${h.git.url}/late-secret.git`, secretRef: { name: "late-auth" } });
    const obj = await h.failing("late-secret", "AuthenticationFailed");
    expect(getCondition(obj, "FetchFailed")?.message).toMatch(/authentication secret '.*\/late-auth' not found/);
    expect(getCondition(obj, "Stalled")).toBeUndefined();
    const generation = obj.metadata.generation;
    await h.client.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "late-auth", namespace: h.ns.name },
      stringData: { username, password },
    });
    const recovered = await h.ready("late-secret", "recovered without a spec change");
    expect(recovered.metadata.generation).toBe(generation);
    expect(getCondition(recovered, "FetchFailed")).toBeUndefined();
  });

  it("Given a storage directory blocked by a file / should recover by itself once the file is gone", async () => {
    // Its own object (not the table row's), so it passes or fails on its own when run alone.
    await h.create("storage-unblocked", await blockedStorage("storage-unblocked"));
    await h.failing("storage-unblocked", "DirectoryCreationFailed");
    await rm(h.storage.localPath(`gitrepository/${h.ns.name}/storage-unblocked`));
    const obj = await h.ready("storage-unblocked", "recovered without a spec change");
    expect(getCondition(obj, "StorageOperationFailed")).toBeUndefined();
    expect(sha256(await h.download(obj.status?.artifact?.url ?? ""))).toBe(obj.status?.artifact?.digest);
  });

  it("Given a transient failure / should retry with backoff until the fault is fixed upstream, while a stalled object is not retried", async () => {
    // Its own objects (not the table rows'), so it passes or fails on its own when run alone.
    await h.create("stalled-semver", await malformedSemver("stalled-semver"));
    const stalled = await eventually(
      async () => {
        const o = await h.get("stalled-semver");
        return o && getCondition(o, "Stalled")?.status === "True" ? o : undefined;
      },
      { what: "stalled-semver Stalled=True" },
    );
    expect(getCondition(stalled, "Ready")?.reason).toBe("GitOperationFailed");
    // Status writes do not enqueue (only spec changes and reconcile requests do): the stalled object is done.
    const stalledAt = lsRemotes("stalled-semver");
    await h.create("retried-branch", await missingBranch("retried-branch"));
    await h.failing("retried-branch", "GitOperationFailed");
    const before = lsRemotes("retried-branch");
    await eventually(() => lsRemotes("retried-branch") >= before + 3, { what: "retried-branch retried" });
    // Three retries of another object later, the stalled one has not asked the server again.
    expect(lsRemotes("stalled-semver")).toBe(stalledAt);
    const r = repos.get("retried-branch");
    await r?.branch("nope");
    const head = await r?.commit({ "b.yaml": "b: 1\n" });
    const obj = await h.ready("retried-branch", "recovered without a spec change");
    expect(obj.status?.artifact?.revision).toBe(`nope@sha1:${head}`);
  });

  it("Given a new revision that fails / should keep serving the previous artifact unchanged", async () => {
    // A branch other than the bare repository's HEAD, so that it can be deleted later.
    const r = await repo("keep", { "a.yaml": "a: 1\n" });
    await r.branch("release");
    await r.commit({ "b.yaml": "b: 1\n" });
    await h.create("keep", { url: `${h.git.url}/keep.git`, ref: { branch: "release" } });
    const good = (await h.ready("keep")).status?.artifact;
    const stillServed = async (obj: GitRepositoryObject) => {
      expect(obj.status?.artifact).toEqual(good);
      expect(sha256(await h.download(good?.url ?? ""))).toBe(good?.digest);
    };

    const big = await r.commit({ "blob.yaml": randomBytes(maxSize * 2).toString("base64") });
    await h.client.mergePatch(h.ref("keep"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "big" } },
    });
    const tooBig = await h.failing("keep", "ArchiveOperationFailed");
    expect(getCondition(tooBig, "ArtifactOutdated")).toMatchObject({
      status: "True",
      reason: "NewRevision",
      message: `new upstream revision 'release@sha1:${big}'`,
    });
    expect(getCondition(tooBig, "ArtifactInStorage")?.status).toBe("True");
    await stillServed(tooBig);

    await r.git(["push", "-q", "origin", ":refs/heads/release"]);
    await h.client.mergePatch(h.ref("keep"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "gone" } },
    });
    const gone = await h.failing("keep", "GitOperationFailed");
    expect(getCondition(gone, "FetchFailed")?.message).toMatch(/branch 'release' not found/);
    await stillServed(gone);
  });

  it("Given all the failing objects above / should keep reconciling a healthy one", async () => {
    // Its own object (not the control's), so it passes or fails on its own when run alone.
    const r = await repo("healthy-later", undefined);
    const first = await r.commit({ "a.yaml": "a: 1\n" });
    await h.create("healthy-later", { url: `${h.git.url}/healthy-later.git` });
    await h.readyAt("healthy-later", `main@sha1:${first}`);
    const head = await r.commit({ "a.yaml": "a: 2\n" });
    await h.client.mergePatch(h.ref("healthy-later"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "next" } },
    });
    const obj = await h.readyAt("healthy-later", `main@sha1:${head}`);
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "True", reason: "Succeeded" });
  });

  it("Given credentials in Secrets / should never show them in status, Events or the controller's log", async () => {
    // Its own failing object, so that it has something to search when run alone; with the file, it searches them all.
    await repo("leak-check", { "a.yaml": "a: 1\n" });
    await h.create("leak-check", { url: `${h.git.url}/leak-check.git`, secretRef: { name: "bad-auth" } });
    await h.failing("leak-check", "AuthenticationFailed");
    await eventually(() => logLines.some((l) => l.includes("Reconciler error") && l.includes("leak-check")), {
      what: "leak-check's reconcile error logged",
    });
    const objects = (await h.client.list<GitRepositoryObject>(gitRepositoryType, { namespace: h.ns.name })).items;
    const events = await eventually(
      async () => {
        const items = (
          await h.client.list<KubeObject>(
            { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
            { namespace: h.ns.name },
          )
        ).items;
        return items.some((e) => (e as { type?: string }).type === "Warning") ? items : undefined;
      },
      { what: "a Warning Event" },
    );
    expect(objects.map((o) => o.metadata.name)).toContain("leak-check");
    expect(events.some((e) => (e as { type?: string }).type === "Warning")).toBe(true);
    const haystacks = {
      status: JSON.stringify(objects.map((o) => o.status)),
      events: JSON.stringify(events),
      log: logLines.join(""),
    };
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    for (const secret of [password, wrongPassword]) {
      for (const needle of [secret, b64(secret), b64(`${username}:${secret}`), encodeURIComponent(secret)]) {
        for (const [where, text] of Object.entries(haystacks)) {
          expect(text.includes(needle), `${where} contains a credential`).toBe(false);
        }
      }
    }
  });
});
