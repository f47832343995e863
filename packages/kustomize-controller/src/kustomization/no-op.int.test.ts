// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${color} is the substitution syntax under test
// A no-op reconcile (same artifact, same spec, same variables) costs no GitRepository GET (the source comes from the
// informer cache) and no `kustomize build` (the last build is reused); a changed variable substitutes again into the
// kept build; a change of the artifact or overlay rebuilds; Kustomizations of one artifact and overlay share one build.
// kustomize runs through a wrapper that appends a line to a file per execution, so the count is of real processes.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kustomizationType } from "@capstan/api";
import { ensureBinaries } from "@capstan/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Harness } from "../testing/harness.js";
import { getConfigMap, kubeconfig, readyAt, scenario, untilKustomization } from "../testing/scenario.js";

let work = "";
let wrapper = "";
const runs = async () => (await readFile(join(work, "runs"), "utf8").catch(() => "")).split("\n").length - 1;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ks-noop-"));
  wrapper = join(work, "kustomize");
  const real = (await ensureBinaries()).bin.kustomize;
  await writeFile(wrapper, `#!/bin/sh\necho run >> '${join(work, "runs")}'\nexec '${real}' "$@"\n`);
  await chmod(wrapper, 0o755);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Asks for a reconcile (as `flux reconcile` does) and waits until it was handled and Ready. */
async function reconcileNow(h: Harness, token: string, revision: string) {
  await h.client.mergePatch(
    { apiVersion: kustomizationType.apiVersion, kind: "Kustomization", name: "apps", namespace: h.namespace },
    { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } },
  );
  await untilKustomization(
    h,
    "apps",
    `reconcile ${token} handled`,
    (k) => k.status?.lastHandledReconcileAt === token && readyAt(revision)(k),
  );
}

describe("a no-op reconcile", () => {
  it("Given nothing changed, should neither GET the GitRepository nor run kustomize; a changed variable only substitutes; a changed overlay or artifact rebuilds", async () => {
    const { h } = await scenario(kubeconfig(), "ks-noop", { options: { kustomizeBinary: wrapper } });
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: painted\ndata:\n  color: "${color}"\n';
    const a = await h.artifact({ "cm.yaml": manifest });
    await h.publish("repo", a);
    const vars = (color: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "vars", namespace: h.namespace },
      data: { color },
    });
    await h.client.apply(vars("blue"), { fieldManager: "test" });
    const spec = { targetNamespace: h.namespace, postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "vars" }] } };
    await h.kustomization("apps", spec);
    await untilKustomization(h, "apps", "applied", readyAt(a.revision));
    const first = await runs();
    expect(first).toBeGreaterThanOrEqual(1);

    // Twice nothing changed: no build, no source GET.
    h.requests.reset();
    await reconcileNow(h, "noop-1", a.revision);
    await reconcileNow(h, "noop-2", a.revision);
    expect(await runs()).toBe(first);
    expect(h.requests.total((k) => k === "get gitrepositories")).toBe(0);
    expect(h.kustomize.buildCache?.hits).toBeGreaterThanOrEqual(2);

    // A substituteFrom value changed: substituted again into the kept build, without running kustomize (postBuild
    // comes after the build, as in Flux).
    await h.client.apply(vars("red"), { fieldManager: "test" });
    await reconcileNow(h, "vars-changed", a.revision);
    expect(await runs()).toBe(first);
    expect((await getConfigMap(h, "painted"))?.data).toEqual({ color: "red" });

    // A spec field that feeds the overlay changed: rebuilt.
    await h.kustomization("apps", { ...spec, namePrefix: "p-" });
    await untilKustomization(
      h,
      "apps",
      "prefixed",
      (k) => readyAt(a.revision)(k) && k.status?.observedGeneration === 2,
    );
    expect(await runs()).toBe(first + 1);
    expect((await getConfigMap(h, "p-painted"))?.data).toEqual({ color: "red" });

    // A new artifact: rebuilt.
    const b = await h.artifact({ "cm.yaml": manifest.replace("painted", "repainted") });
    await h.publish("repo", b);
    await untilKustomization(h, "apps", "new revision", readyAt(b.revision));
    expect(await runs()).toBe(first + 2);
  }, 180_000);

  it("Given Kustomizations of different sources with the same artifact and overlay, differing in postBuild, should run kustomize once and apply each one's variables", async () => {
    const before = await runs();
    const { h } = await scenario(kubeconfig(), "ks-shared", { options: { kustomizeBinary: wrapper } });
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-${n}\ndata:\n  n: "${n}"\n';
    const a = await h.artifact({ "cm.yaml": manifest });
    const names = ["one", "two", "three", "four", "five"];
    for (const n of names) await h.publish(`repo-${n}`, a);
    for (const n of names) {
      await h.kustomization(`app-${n}`, {
        sourceRef: { kind: "GitRepository", name: `repo-${n}` },
        targetNamespace: h.namespace,
        postBuild: { substitute: { n } },
      });
    }
    for (const n of names) {
      await untilKustomization(h, `app-${n}`, "applied", readyAt(a.revision));
      expect((await getConfigMap(h, `app-${n}`))?.data).toEqual({ n });
    }
    // One `kustomize build` for the five (concurrent ones wait for the first), the others from the shared level.
    expect((await runs()) - before).toBe(1);
    expect(h.kustomize.buildCache?.sharedHits).toBeGreaterThanOrEqual(4);

    // Another overlay is another build.
    await h.kustomization("app-one", {
      sourceRef: { kind: "GitRepository", name: "repo-one" },
      targetNamespace: h.namespace,
      namePrefix: "p-",
      postBuild: { substitute: { n: "one" } },
    });
    await untilKustomization(
      h,
      "app-one",
      "prefixed",
      (k) => readyAt(a.revision)(k) && k.status?.observedGeneration === 2,
    );
    expect((await runs()) - before).toBe(2);
    expect((await getConfigMap(h, "p-app-one"))?.data).toEqual({ n: "one" });
  }, 180_000);
});
