// One integration scenario: a fresh namespace and a harness controller watching only it, removed when the test
// (scenario) or the file (fileScenario) ends.
import { ensureBinaries } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, inject, onTestFinished } from "vitest";
import type { KustomizationObject } from "../kustomization/types.js";
import { ensureCrds, Harness, type HarnessOptions, type PublishedArtifact, readyOf } from "./harness.js";

export interface Scenario {
  ns: TestNamespace;
  h: Harness;
}

export type ScenarioOptions = Pick<HarnessOptions, "flags" | "options">;

/** The kubeconfig of the control plane the vitest global setup started. */
export const kubeconfig = (): string => testKubeconfigPath(inject("capstanKubeconfig"));

/** Creates the namespace and starts the controller; `cleanup` is handed the teardown before the controller starts. */
async function open(
  kubeconfigPath: string,
  prefix: string,
  o: ScenarioOptions,
  cleanup: (close: () => Promise<void>) => void,
): Promise<Scenario> {
  await ensureCrds(kubeconfigPath);
  const ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), prefix);
  const h = new Harness({
    kubeconfigPath,
    namespace: ns.name,
    kustomizeBinary: (await ensureBinaries()).bin.kustomize,
    sopsBinary: (await ensureBinaries()).bin.sops,
    ...o,
  });
  cleanup(async () => {
    await h.stop();
    await ns.delete();
  });
  await h.start();
  return { ns, h };
}

/** Starts a controller on a new namespace for the current test; both go away when the test finishes. */
export function scenario(kubeconfigPath: string, prefix: string, o: ScenarioOptions = {}): Promise<Scenario> {
  return open(kubeconfigPath, prefix, o, onTestFinished);
}

/**
 * One controller on one namespace shared by the tests of a file (or of the describe block it is called in): started
 * before the first test, removed after the last. Read `ns` and `h` inside hooks and tests, not at collection time.
 */
export function fileScenario(prefix: string, o: ScenarioOptions = {}): Scenario {
  let current: Scenario | undefined;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    current = await open(kubeconfig(), prefix, o, (c) => {
      close = c;
    });
  });
  afterAll(async () => {
    await close?.();
  });
  const started = (): Scenario => {
    if (!current) throw new Error(`fileScenario ${prefix}: read before its beforeAll ran (or it failed)`);
    return current;
  };
  return {
    get ns() {
      return started().ns;
    },
    get h() {
      return started().h;
    },
  };
}

export const configMap = (name: string, value: string, extra = "") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n  value: "${value}"\n`;

/** A Deployment "web" (image on registry.invalid: kwok runs it, nothing pulls it), optionally pinned by nodeSelector. */
export const deployment = (replicas = 1, nodeSelector?: Record<string, string>) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
${nodeSelector ? `      nodeSelector: ${JSON.stringify(nodeSelector)}\n` : ""}      containers:
        - name: web
          image: registry.invalid/web:1
`;

/** The Service "web" in front of deployment(). */
export const webService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
    - port: 80
`;

/**
 * Publishes `tree` as the GitRepository `<name>-repo` and points the Kustomization `name` at it, with the harness's
 * namespace as its target and `spec` added; returns the artifact.
 */
export async function ownSource(
  h: Harness,
  name: string,
  tree: Record<string, string>,
  spec: Record<string, unknown> = {},
): Promise<PublishedArtifact> {
  const a = await h.artifact(tree);
  await h.publish(`${name}-repo`, a);
  await h.kustomization(name, {
    sourceRef: { kind: "GitRepository", name: `${name}-repo` },
    targetNamespace: h.namespace,
    ...spec,
  });
  return a;
}

/** Polls the Kustomization until pred holds, saying what was last seen when it times out. */
export async function untilKustomization(
  h: Harness,
  name: string,
  what: string,
  pred: (k: KustomizationObject) => boolean,
  timeoutMs = 60_000,
): Promise<KustomizationObject> {
  let last: KustomizationObject | undefined;
  return eventually(
    async () => {
      last = await h.getKustomization(name);
      return !!last && pred(last) && last;
    },
    { what: () => `${name}: ${what} (last Ready: ${JSON.stringify(readyOf(last))})`, timeoutMs },
  );
}

/** Ready=False with this reason, observed for the current generation. */
export const failedWith = (reason: string) => (k: KustomizationObject) =>
  readyOf(k)?.status === "False" && readyOf(k)?.reason === reason;

/** Ready=True at this revision. */
/** lastAppliedRevision is `revision`, whatever Ready says. */
export const appliedAt = (revision: string) => (k: KustomizationObject) => k.status?.lastAppliedRevision === revision;
export const readyAt = (revision: string) => (k: KustomizationObject) =>
  readyOf(k)?.status === "True" && k.status?.lastAppliedRevision === revision;

const eventType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true };

/** The core/v1 Events of the namespace (all of them: a secret must leak into none). */
export async function namespaceEvents(h: Harness): Promise<(KubeObject & { message?: string; reason?: string })[]> {
  const { items } = await h.client.list<KubeObject & { message?: string; reason?: string }>(eventType, {
    namespace: h.namespace,
  });
  return items;
}

export async function getConfigMap(h: Harness, name: string, namespace = h.namespace) {
  return h.client.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    name,
    namespace,
  });
}
