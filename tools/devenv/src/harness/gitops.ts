// One end-to-end environment: a test namespace that plays the controllers' runtime namespace (flux-system in Flux),
// a real git server on loopback holding one repository, and the controllers as processes started from their chart.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GitRepository, gitRepositoryType, type Kustomization, kustomizationType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { createTestNamespace, eventually, loadKubeConfig, type TestNamespace } from "@capstan/cluster/testing";
import { createTestRepo, type GitHttpServer, startGitHttpServer, type TestRepo } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import type { ControllerName } from "./charts.js";
import { type Controllers, startControllers } from "./controllers.js";

export interface GitOpsEnv {
  namespace: string;
  client: KubeClient;
  repo: TestRepo;
  /** http://127.0.0.1:<port>/<repo>.git, behind basic auth (Secret `git-auth` in the namespace). */
  repoUrl: string;
  git: GitHttpServer;
  controllers: Controllers;
  gitRepository(name: string, spec?: Partial<GitRepository["spec"]>): Promise<void>;
  kustomization(name: string, spec: Partial<Kustomization["spec"]> & { path: string }): Promise<void>;
  /** Waits until the object's Ready condition is True for its current generation; returns the object. */
  ready<T extends KubeObject>(kind: "GitRepository" | "Kustomization", name: string, timeoutMs?: number): Promise<T>;
  get<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined>;
  close(): Promise<void>;
}

export interface GitOpsEnvOptions {
  kubeconfig: string;
  prefix: string;
  only?: ControllerName[];
  /** Extra chart values. */
  set?: string[];
}

const fieldManager = "capstan-e2e";

export async function startGitOpsEnv(options: GitOpsEnvOptions): Promise<GitOpsEnv> {
  await ensureCrds(options.kubeconfig);
  const client = new KubeClient({ kubeconfigPath: options.kubeconfig });
  const ns: TestNamespace = await createTestNamespace(loadKubeConfig(options.kubeconfig), options.prefix);
  const gitRoot = mkdtempSync(join(tmpdir(), "capstan-e2e-git-"));
  const password = randomBytes(12).toString("hex");
  const cleanups: (() => Promise<unknown>)[] = [
    async () => rmSync(gitRoot, { recursive: true, force: true }),
    () => ns.delete(),
  ];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const git = await startGitHttpServer({ root: gitRoot, basicAuth: { username: "git", password } });
    cleanups.push(() => git.close());
    const repo = await createTestRepo(gitRoot, "app.git");
    const repoUrl = `${git.url}/app.git`;
    await client.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "git-auth", namespace: ns.name },
        stringData: { username: "git", password },
      },
      { fieldManager },
    );
    // Each environment's controllers watch only its own namespace, so parallel test files never share objects.
    const set = [
      ...["source-controller", "kustomize-controller", "helm-controller", "notification-controller"].map(
        (c) => `${c}.watchAllNamespaces=false`,
      ),
      "kustomize-controller.multitenancy.enabled=false",
      ...(options.set ?? []),
    ];
    const controllers = await startControllers({
      kubeconfig: options.kubeconfig,
      namespace: ns.name,
      set,
      ...(options.only ? { only: options.only } : {}),
    });
    cleanups.push(() => controllers.stop());
    // Before the controllers stop, our objects go, so their finalizers run (Kustomizations prune what they applied).
    cleanups.push(() => deleteOwnObjects(client, ns.name));

    const env: GitOpsEnv = {
      namespace: ns.name,
      client,
      repo,
      repoUrl,
      git,
      controllers,
      gitRepository: async (name, spec = {}) => {
        await client.apply(
          {
            apiVersion: gitRepositoryType.apiVersion,
            kind: gitRepositoryType.kind,
            metadata: { name, namespace: ns.name },
            spec: { url: repoUrl, interval: "1m", ref: { branch: "main" }, secretRef: { name: "git-auth" }, ...spec },
          },
          { fieldManager },
        );
      },
      kustomization: async (name, spec) => {
        await client.apply(
          {
            apiVersion: kustomizationType.apiVersion,
            kind: kustomizationType.kind,
            metadata: { name, namespace: ns.name },
            spec: { interval: "10m", prune: true, sourceRef: { kind: "GitRepository", name: "app" }, ...spec },
          },
          { fieldManager },
        );
      },
      ready: async <T extends KubeObject>(
        kind: "GitRepository" | "Kustomization",
        name: string,
        timeoutMs = 60_000,
      ) => {
        const type = kind === "GitRepository" ? gitRepositoryType : kustomizationType;
        let last: KubeObject | undefined;
        return eventually(
          async () => {
            last = await client.get({ apiVersion: type.apiVersion, kind, name, namespace: ns.name });
            const status = last?.status as {
              conditions?: { type: string; status: string; observedGeneration?: number }[];
            };
            const ready = status?.conditions?.find((c) => c.type === "Ready");
            return ready?.status === "True" && ready.observedGeneration === last?.metadata.generation
              ? (last as T)
              : undefined;
          },
          {
            timeoutMs,
            what: () =>
              `${kind}/${name} Ready (status: ${JSON.stringify((last?.status as { conditions?: unknown })?.conditions)})\n` +
              [...controllers.byName.values()].map((c) => `--- ${c.name}\n${c.logTail(15)}`).join("\n"),
          },
        );
      },
      get: (apiVersion, kind, name, namespace) =>
        client.get({ apiVersion, kind, name, namespace: namespace ?? ns.name }),
      close,
    };
    return env;
  } catch (err) {
    await close();
    throw err;
  }
}

async function deleteOwnObjects(client: KubeClient, namespace: string): Promise<void> {
  for (const type of [kustomizationType, gitRepositoryType]) {
    const resource = await client.resourceFor(type.apiVersion, type.kind);
    const { items } = await client.list(resource, { namespace });
    for (const obj of items) {
      await client.delete({ apiVersion: type.apiVersion, kind: type.kind, name: obj.metadata.name, namespace });
    }
    const gone = await eventually(async () => (await client.list(resource, { namespace })).items.length === 0, {
      timeoutMs: 30_000,
      what: `${type.kind} objects in ${namespace} to finalize`,
    }).catch(() => false);
    if (!gone) {
      // A controller that could not finalize must not leave the namespace stuck in Terminating.
      for (const obj of (await client.list(resource, { namespace })).items) {
        await client.mergePatch(
          { apiVersion: type.apiVersion, kind: type.kind, name: obj.metadata.name, namespace },
          { metadata: { finalizers: null } },
        );
      }
    }
  }
}
