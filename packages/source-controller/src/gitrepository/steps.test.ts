// The GitRepository steps without a control plane or a Git server: the runtime's in-memory client stands in for the
// apiserver, a Storage on a temp directory for the artifact storage. What needs a remote is in the *.int.test.ts.
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitRepositoryConditions, GitRepositoryReasons, gitRepositoryType } from "@capstan/api";
import { Conditions, getCondition, Reasons, ReconcileError, WaitingError } from "@capstan/runtime";
import { MemoryClient, memoryContext, memoryReconciler } from "@capstan/runtime/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Storage } from "../storage/storage.js";
import { gitRepositoryReconciler } from "./definition.js";
import { type GitRepoState, type GitRepositoryObject, newState } from "./state.js";
import {
  reconcileArtifact,
  reconcileSource,
  reconcileStorage,
  removeScratch,
  resolveIncludes,
  type StepDeps,
} from "./steps.js";

const ns = "team";
const ref = { apiVersion: gitRepositoryType.apiVersion, kind: gitRepositoryType.kind, namespace: ns, name: "app" };

function repo(spec: Partial<GitRepositoryObject["spec"]> = {}, status?: GitRepositoryObject["status"]) {
  return {
    apiVersion: gitRepositoryType.apiVersion,
    kind: gitRepositoryType.kind,
    metadata: { name: "app", namespace: ns, generation: 1, finalizers: ["finalizers.fluxcd.io"] },
    spec: { url: "https://git.example.com/app.git", interval: "10m", ...spec },
    ...(status ? { status } : {}),
  } as GitRepositoryObject;
}

let work: string;
let storage: Storage;
let deps: StepDeps;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "capstan-steps-test-"));
  storage = new Storage({ root: join(work, "storage"), advertisedAddress: "source-controller.test" });
  deps = { storage, requeueDependencyMs: 30_000 };
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A checkout on disk, as fetchSource would leave it. */
async function checkout(files: Record<string, string>) {
  const dir = join(work, "checkout");
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return {
    dir,
    reference: "refs/heads/main",
    commit: "a".repeat(40),
    revision: `main@sha1:${"a".repeat(40)}`,
    subject: "add the app",
  };
}

describe("reconcileStorage", () => {
  it("Given a recorded artifact whose file is gone / should drop it and say the artifact is being built", async () => {
    const obj = repo(
      {},
      {
        artifact: {
          path: "gitrepository/team/app/x.tar.gz",
          url: "",
          revision: "r",
          digest: "d",
          lastUpdateTime: "2026-01-01T00:00:00Z",
        },
      },
    );
    const ctx = memoryContext(new MemoryClient());
    await reconcileStorage(deps)(ctx, obj, newState());
    expect(obj.status?.artifact).toBeUndefined();
    expect(getCondition(obj, GitRepositoryConditions.ArtifactInStorage)).toBeUndefined();
    expect(getCondition(obj, Conditions.Reconciling)).toMatchObject({
      status: "True",
      reason: Reasons.Progressing,
      message: "building artifact: disappeared from storage",
    });
  });

  it("Given a stored artifact whose bytes no longer match its digest / should remove it, warn, and rebuild", async () => {
    const built = await storage.archive(
      storage.artifactPath({ kind: "GitRepository", namespace: ns, name: "app" }, "x.tar.gz"),
      (await checkout({ "a.yaml": "a: 1\n" })).dir,
    );
    const path = storage.artifactPath({ kind: "GitRepository", namespace: ns, name: "app" }, "x.tar.gz");
    const obj = repo(
      {},
      {
        artifact: { path, url: "", revision: "r", digest: `${built.digest}0`, lastUpdateTime: "2026-01-01T00:00:00Z" },
      },
    );
    const ctx = memoryContext(new MemoryClient());
    const state = newState();
    await reconcileStorage(deps)(ctx, obj, state);
    expect(ctx.events.events).toMatchObject([
      { type: "Warning", reason: GitRepositoryReasons.ArtifactVerificationFailed },
    ]);
    expect(await storage.exists(path)).toBe(false);
    expect(obj.status?.artifact).toBeUndefined();
    // The digest the reconcile began with is kept, so a rebuild of the same bytes still counts as news.
    expect(state.previousDigest).toBe(`${built.digest}0`);
  });

  it("Given a sound stored artifact / should mark ArtifactInStorage and refresh its URL", async () => {
    const path = storage.artifactPath({ kind: "GitRepository", namespace: ns, name: "app" }, "x.tar.gz");
    const built = await storage.archive(path, (await checkout({ "a.yaml": "a: 1\n" })).dir);
    const obj = repo(
      {},
      {
        artifact: {
          path,
          url: "http://old/",
          revision: "rev1",
          digest: built.digest,
          lastUpdateTime: "2026-01-01T00:00:00Z",
        },
      },
    );
    await reconcileStorage(deps)(memoryContext(new MemoryClient()), obj, newState());
    expect(obj.status?.artifact?.url).toBe(storage.url(path));
    expect(getCondition(obj, GitRepositoryConditions.ArtifactInStorage)).toMatchObject({
      status: "True",
      reason: Reasons.Succeeded,
      message: "stored artifact for revision 'rev1'",
    });
  });
});

describe("reconcileSource", () => {
  it("Given a secretRef to a Secret that does not exist / should fail on FetchFailed with AuthenticationFailed before any Git", async () => {
    const obj = repo({ secretRef: { name: "missing" } });
    const err = await reconcileSource(deps)(memoryContext(new MemoryClient()), obj, newState()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReconcileError);
    expect(err).toMatchObject({
      condition: GitRepositoryConditions.FetchFailed,
      reason: GitRepositoryReasons.AuthenticationFailed,
      message: `failed to checkout and determine revision: authentication secret '${ns}/missing' not found`,
      stalling: false,
    });
  });

  it("Given an unsupported URL scheme / should stall with URLInvalid", async () => {
    const obj = repo({ url: "ftp://git.example.com/app.git" });
    const err = await reconcileSource(deps)(memoryContext(new MemoryClient()), obj, newState()).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      condition: GitRepositoryConditions.FetchFailed,
      reason: GitRepositoryReasons.URLInvalid,
      stalling: true,
    });
  });
});

describe("reconcileArtifact", () => {
  it("Given a checkout / should store the archive, record it in status, and announce it once per new digest", async () => {
    const obj = repo({ ignore: "*.md\n" });
    const ctx = memoryContext(new MemoryClient());
    const state: GitRepoState = {
      ...newState(),
      checkout: await checkout({ "app.yaml": "kind: ConfigMap\n", "README.md": "x" }),
    };
    await reconcileArtifact(deps)(ctx, obj, state);
    const artifact = obj.status?.artifact;
    expect(artifact?.revision).toBe(`main@sha1:${"a".repeat(40)}`);
    expect(artifact?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await storage.exists(artifact?.path ?? "")).toBe(true);
    expect(obj.status?.observedIgnore).toBe("*.md\n");
    expect(getCondition(obj, GitRepositoryConditions.ArtifactInStorage)?.status).toBe("True");
    expect(ctx.events.events).toEqual([
      expect.objectContaining({
        type: "Normal",
        reason: GitRepositoryReasons.NewArtifact,
        message: "stored artifact for commit 'add the app'",
        annotations: {
          "source.toolkit.fluxcd.io/revision": artifact?.revision,
          "source.toolkit.fluxcd.io/digest": artifact?.digest,
        },
      }),
    ]);
    // The same bytes again: no news.
    const again = memoryContext(new MemoryClient());
    await reconcileArtifact(deps)(again, obj, { ...state, previousDigest: artifact?.digest ?? "" });
    expect(again.events.events).toEqual([]);
  });

  it("Given the artifact is up to date / should clear ArtifactOutdated and build nothing", async () => {
    const path = storage.artifactPath({ kind: "GitRepository", namespace: ns, name: "app" }, "x.tar.gz");
    const obj = repo(
      {},
      { artifact: { path, url: "", revision: "rev1", digest: "d", lastUpdateTime: "2026-01-01T00:00:00Z" } },
    );
    obj.status = {
      ...obj.status,
      conditions: [
        {
          type: GitRepositoryConditions.ArtifactOutdated,
          status: "True",
          reason: GitRepositoryReasons.NewRevision,
          message: "m",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    };
    await reconcileArtifact(deps)(memoryContext(new MemoryClient()), obj, { ...newState(), upToDate: true });
    expect(getCondition(obj, GitRepositoryConditions.ArtifactOutdated)).toBeUndefined();
    expect(getCondition(obj, GitRepositoryConditions.ArtifactInStorage)?.message).toBe(
      "stored artifact for revision 'rev1'",
    );
    expect(await storage.exists(path)).toBe(false);
  });
});

describe("the GitRepository reconciler, one pass against the in-memory client", () => {
  it("Given a missing auth Secret / should write FetchFailed and Ready=False with the reason, and emit a Warning", async () => {
    const client = new MemoryClient([gitRepositoryType]);
    client.seed(repo({ secretRef: { name: "missing" } }));
    const r = memoryReconciler(gitRepositoryReconciler({ storage }), client, { fieldManager: "source-controller" });
    expect(await r.reconcile(`${ns}/app`)).toEqual({ type: "retry" });
    const obj = client.peek<GitRepositoryObject>(ref);
    const message = `failed to checkout and determine revision: authentication secret '${ns}/missing' not found`;
    expect(getCondition(obj ?? repo(), GitRepositoryConditions.FetchFailed)).toMatchObject({
      status: "True",
      reason: GitRepositoryReasons.AuthenticationFailed,
      message,
    });
    expect(getCondition(obj ?? repo(), Conditions.Ready)).toMatchObject({
      status: "False",
      reason: GitRepositoryReasons.AuthenticationFailed,
    });
    expect(getCondition(obj ?? repo(), Conditions.Reconciling)?.reason).toBe(Reasons.ProgressingWithRetry);
    expect(r.events.events).toMatchObject([
      { type: "Warning", reason: GitRepositoryReasons.AuthenticationFailed, message },
    ]);
    expect(client.writes.filter((w) => w.verb === "applyStatus").map((w) => w.fieldManager)).toEqual([
      "source-controller",
    ]);
  });
});

describe("resolveIncludes", () => {
  const included = (artifact?: boolean) => ({
    ...repo(),
    metadata: { name: "shared", namespace: ns },
    ...(artifact
      ? {
          status: {
            artifact: { path: "p", url: "u", revision: "rev", digest: "d", lastUpdateTime: "2026-01-01T00:00:00Z" },
          },
        }
      : {}),
  });
  it.each([
    [
      false,
      "does not exist",
      GitRepositoryReasons.IncludeNotFound,
      "could not get resource for include 'shared': not found",
    ],
    [true, "has no artifact", GitRepositoryReasons.NoArtifact, "no artifact available for include 'shared'"],
  ])("Given an include that %s / should wait on IncludeUnavailable", async (exists, _what, reason, message) => {
    const client = new MemoryClient([gitRepositoryType]);
    if (exists) client.seed(included(false));
    const obj = repo({ include: [{ repository: { name: "shared" } }] });
    const err = await resolveIncludes(memoryContext(client), obj, newState(), {
      ...deps,
      requeueDependencyMs: 1234,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitingError);
    expect(err).toMatchObject({
      condition: GitRepositoryConditions.IncludeUnavailable,
      reason,
      message,
      requeueAfterMs: 1234,
    });
  });

  it("Given an include with an artifact / should pass it on and clear IncludeUnavailable", async () => {
    const client = new MemoryClient([gitRepositoryType]);
    client.seed(included(true));
    const obj = repo({ include: [{ repository: { name: "shared" }, toPath: "lib" }] });
    obj.status = {
      conditions: [
        {
          type: GitRepositoryConditions.IncludeUnavailable,
          status: "True",
          reason: "NoArtifact",
          message: "m",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    };
    const state = newState();
    await resolveIncludes(memoryContext(client), obj, state, deps);
    expect(state.includes).toEqual([
      {
        include: { repository: { name: "shared" }, toPath: "lib" },
        artifact: expect.objectContaining({ revision: "rev" }),
      },
    ]);
    expect(getCondition(obj, GitRepositoryConditions.IncludeUnavailable)).toBeUndefined();
  });
});

describe("removeScratch (the end-of-pass hook)", () => {
  it("Given a scratch directory / should remove it", async () => {
    const tmp = await mkdtemp(join(work, "scratch-"));
    await removeScratch({ ...newState(), tmp });
    await expect(stat(tmp)).rejects.toThrow();
  });
});
