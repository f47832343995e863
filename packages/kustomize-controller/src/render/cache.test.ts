import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { BuildCache, type BuildInputs } from "./cache.js";

const base: BuildInputs = {
  digest: "sha256:aaaa",
  spec: {
    path: "./apps",
    sourceRef: { kind: "GitRepository", name: "repo" },
    targetNamespace: "prod",
    postBuild: { substitute: { color: "blue" }, substituteFrom: [{ kind: "Secret", name: "s" }] },
    interval: "10m",
  },
  variables: { color: "blue", password: "hunter2" },
  settings: { kustomize: "/bin/kustomize", strict: false },
};

const cm = (name: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });

describe("BuildCache.fingerprint", () => {
  const cache = new BuildCache();
  const f = (over: Partial<BuildInputs>, spec: Record<string, unknown> = {}) =>
    cache.fingerprint({ ...base, ...over, spec: { ...base.spec, ...spec } });

  it.each<[string, Partial<BuildInputs>, Record<string, unknown>]>([
    ["the artifact digest", { digest: "sha256:bbbb" }, {}],
    ["spec.path", {}, { path: "./other" }],
    ["spec.targetNamespace", {}, { targetNamespace: "dev" }],
    ["spec.namePrefix", {}, { namePrefix: "x-" }],
    ["spec.nameSuffix", {}, { nameSuffix: "-x" }],
    ["spec.patches", {}, { patches: [{ patch: "- op: remove\n  path: /x" }] }],
    ["spec.images", {}, { images: [{ name: "nginx", newTag: "2" }] }],
    ["spec.components", {}, { components: ["./c"] }],
    ["spec.commonMetadata", {}, { commonMetadata: { labels: { team: "a" } } }],
    ["spec.buildMetadata", {}, { buildMetadata: ["originAnnotations"] }],
    ["spec.postBuild", {}, { postBuild: { substitute: { color: "red" } } }],
    ["a substituteFrom value", { variables: { color: "blue", password: "changed" } }, {}],
    ["the strict substitution setting", { settings: { kustomize: "/bin/kustomize", strict: true } }, {}],
    ["a spec field the cache does not know", {}, { someFutureField: true }],
  ])("Given a change of %s, should give another fingerprint", (_what, over, spec) => {
    expect(f(over, spec)).not.toBe(f({}));
  });

  it.each([
    ["interval", "1m"],
    ["timeout", "5m"],
    ["prune", false],
    ["wait", true],
    ["force", true],
    ["healthChecks", [{ kind: "Deployment", name: "web" }]],
    ["dependsOn", [{ name: "infra" }]],
    ["suspend", true],
  ])("Given a change of spec.%s only, should keep the fingerprint (it shapes no build)", (field, value) => {
    expect(f({}, { [field]: value })).toBe(f({}));
  });

  it("Given the same inputs in another key order, should give the same fingerprint", () => {
    const reordered = Object.fromEntries(Object.entries(base.spec).reverse());
    expect(cache.fingerprint({ ...base, spec: reordered, variables: { password: "hunter2", color: "blue" } })).toBe(
      f({}),
    );
  });

  it.each<[string, Partial<BuildInputs>, Record<string, unknown>]>([
    ["spec.postBuild", {}, { postBuild: { substitute: { color: "red" } } }],
    ["a substituteFrom value", { variables: { color: "blue", password: "changed" } }, {}],
    ["spec.commonMetadata", {}, { commonMetadata: { labels: { team: "a" } } }],
    ["the strict substitution setting", { settings: { kustomize: "/bin/kustomize", strict: true } }, {}],
  ])(
    "Given a change of %s (applied after kustomize build), should keep the build's fingerprint only",
    (_w, over, spec) => {
      const before = cache.fingerprints(base);
      const after = cache.fingerprints({ ...base, ...over, spec: { ...base.spec, ...spec } });
      expect(after.build).toBe(before.build);
      expect(after.output).not.toBe(before.output);
    },
  );

  it("Given Secret values among the variables, should not hold them in the clear nor as their plain sha256", () => {
    const fp = f({});
    expect(fp).not.toContain("hunter2");
    const other = new BuildCache();
    expect(other.fingerprint(base)).not.toBe(fp);
  });
});

describe("BuildCache entries", () => {
  it("Given a stored build, should return it for the same owner and fingerprint only, as a fresh copy", () => {
    const cache = new BuildCache();
    cache.set("ns/a", "fp1", [cm("x")]);
    expect(cache.get("ns/a", "fp2")).toBeUndefined();
    expect(cache.get("ns/b", "fp1")).toBeUndefined();
    const hit = cache.get("ns/a", "fp1");
    expect(hit).toEqual([cm("x")]);
    (hit as KubeObject[])[0]!.metadata.name = "mutated";
    expect(cache.get("ns/a", "fp1")).toEqual([cm("x")]);
    expect([cache.hits, cache.misses]).toEqual([2, 2]);
  });

  it("Given only what comes after the build changed, should hand back kustomize build's objects to substitute again", () => {
    const cache = new BuildCache();
    const built = [cm("unsubstituted")];
    cache.set("ns/a", { build: "b1", output: "o1" }, [cm("blue")], built);
    expect(cache.lookup("ns/a", { build: "b1", output: "o1" })).toEqual({ output: [cm("blue")] });
    expect(cache.lookup("ns/a", { build: "b1", output: "o2" })).toEqual({ built });
    expect(cache.lookup("ns/a", { build: "b2", output: "o1" })).toBeUndefined();
    expect([cache.hits, cache.misses]).toEqual([2, 1]);
  });

  it("Given an output kept without its build's objects, should not reuse it for another output", () => {
    const cache = new BuildCache();
    cache.set("ns/a", { build: "b1", output: "o1" }, [cm("blue")]);
    expect(cache.lookup("ns/a", { build: "b1", output: "o2" })).toBeUndefined();
  });

  it("Given more owners than maxEntries, should drop the least recently used", () => {
    const cache = new BuildCache({ maxEntries: 2 });
    cache.set("a", "f", [cm("a")]);
    cache.set("b", "f", [cm("b")]);
    cache.get("a", "f");
    cache.set("c", "f", [cm("c")]);
    expect(cache.get("b", "f")).toBeUndefined();
    expect(cache.get("a", "f")).toBeDefined();
    expect(cache.get("c", "f")).toBeDefined();
  });

  it("Given builds beyond maxBytes, should drop old ones and never keep one larger than the budget", () => {
    const one = JSON.stringify([cm("a")]).length;
    const cache = new BuildCache({ maxBytes: one * 2 });
    cache.set("a", "f", [cm("a")]);
    cache.set("b", "f", [cm("b")]);
    cache.set("c", "f", [cm("c")]);
    expect(cache.size).toBe(2);
    expect(cache.get("a", "f")).toBeUndefined();
    cache.set("big", "f", [cm("a"), cm("b"), cm("c")]);
    expect(cache.get("big", "f")).toBeUndefined();
  });

  it("Given forget, should drop the owner's build", () => {
    const cache = new BuildCache();
    cache.set("a", "f", [cm("a")]);
    cache.forget("a");
    expect(cache.get("a", "f")).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe("BuildCache shared builds: one `kustomize build` per artifact and overlay, whoever asks", () => {
  const cache = new BuildCache();
  const fp = (spec: Record<string, unknown>, over: Partial<BuildInputs> = {}) =>
    cache.fingerprints({ ...base, ...over, spec: { ...base.spec, ...spec } });

  it("should share a build between Kustomizations that differ in source name, account, cluster or postBuild only", () => {
    const a = fp({});
    for (const other of [
      fp({ sourceRef: { kind: "GitRepository", name: "other-repo" } }),
      fp({ serviceAccountName: "tenant" }),
      fp({ kubeConfig: { secretRef: { name: "remote" } } }),
      fp({ postBuild: { substitute: { color: "red" } } }, { variables: { color: "red" } }),
      fp({ interval: "1h", wait: true }),
    ]) {
      expect(other.shared).toBe(a.shared);
    }
    // ... but not the per-Kustomization level: another source or account is another Kustomization's build.
    expect(fp({ sourceRef: { kind: "GitRepository", name: "other-repo" } }).build).not.toBe(a.build);
  });

  it.each<[string, Record<string, unknown>, Partial<BuildInputs>]>([
    ["the artifact digest", {}, { digest: "sha256:bbbb" }],
    ["spec.path", { path: "./other" }, {}],
    ["spec.targetNamespace", { targetNamespace: "dev" }, {}],
    ["spec.patches", { patches: [{ patch: "- op: remove\n  path: /x" }] }, {}],
    ["spec.decryption", { decryption: { provider: "sops" } }, {}],
    ["a spec field the cache does not know", { someFutureField: true }, {}],
    ["the kustomize binary", {}, { settings: { kustomize: "/other/kustomize", strict: false } }],
  ])("should not share across a change of %s", (_what, spec, over) => {
    expect(fp(spec, over).shared).not.toBe(fp({}).shared);
  });

  it("should run the build once, then hand out copies the caller may change", async () => {
    const c = new BuildCache();
    let runs = 0;
    const build = async () => {
      runs++;
      return [cm("built")];
    };
    const first = await c.sharedBuild("k", build);
    expect(first).toEqual({ built: [cm("built")], shared: false });
    (first.built[0] as KubeObject).metadata.name = "mutated";
    const second = await c.sharedBuild("k", build);
    expect(second).toEqual({ built: [cm("built")], shared: true });
    expect(runs).toBe(1);
    expect([c.builds, c.sharedHits]).toEqual([1, 1]);
  });

  it("should keep one copy of a shared build for all the Kustomizations it serves, not one each", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const c = new BuildCache({ maxBytes: 1024 * 1024 * 1024 });
    // 200 KiB of objects, as a real app's build can be; 300 Kustomizations of it that differ in postBuild only.
    const big = Array.from({ length: 100 }, (_, i) => ({ ...cm(`cm-${i}`), data: { text: "x".repeat(2048) } }));
    const { built } = await c.sharedBuild("k", async () => big);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 300; i++) c.set(`ns/app-${i}`, { build: `b${i}`, output: `o${i}` }, [cm(`app-${i}`)], built);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(c.size).toBe(300);
    // One copy each would be 300 × 200 KiB, about 60 MiB.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    expect(c.lookup("ns/app-7", { build: "b7", output: "other" })).toEqual({ built: big });
  });

  it("should let concurrent asks of one key wait for the running build, and build themselves if it fails", async () => {
    const c = new BuildCache();
    let release: (v: KubeObject[]) => void = () => {};
    let runs = 0;
    const slow = () => {
      runs++;
      return new Promise<KubeObject[]>((r) => {
        release = r;
      });
    };
    const leader = c.sharedBuild("k", slow);
    const follower = c.sharedBuild("k", slow);
    release([cm("one")]);
    expect(await leader).toEqual({ built: [cm("one")], shared: false });
    expect(await follower).toEqual({ built: [cm("one")], shared: true });
    expect(runs).toBe(1);

    const failing = c.sharedBuild("f", () => Promise.reject(new Error("leader's fetch failed")));
    const own = c.sharedBuild("f", async () => [cm("own")]);
    await expect(failing).rejects.toThrow("leader's fetch failed");
    expect(await own).toEqual({ built: [cm("own")], shared: false });
    // The failed build was not kept; the follower's own build was, and the next ask takes it.
    expect((await c.sharedBuild("f", async () => [cm("again")])).shared).toBe(true);
  });

  it("should stop waiting for another's build when its own reconcile is aborted", async () => {
    const c = new BuildCache();
    void c.sharedBuild("k", () => new Promise<KubeObject[]>(() => {}));
    const abort = new AbortController();
    const waiting = c.sharedBuild("k", async () => [cm("x")], abort.signal);
    abort.abort(new Error("reconcile timed out"));
    await expect(waiting).rejects.toThrow("reconcile timed out");
  });

  it("should keep at most maxShared builds, least recently used out", async () => {
    const c = new BuildCache({ maxShared: 1 });
    await c.sharedBuild("a", async () => [cm("a")]);
    await c.sharedBuild("b", async () => [cm("b")]);
    expect((await c.sharedBuild("b", async () => [cm("b2")])).shared).toBe(true);
    expect((await c.sharedBuild("a", async () => [cm("a2")])).built).toEqual([cm("a2")]);
  });
});
