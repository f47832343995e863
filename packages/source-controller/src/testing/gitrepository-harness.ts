// The GitRepository reconciler inside this process against a real kube-apiserver: a git server on loopback, real
// storage behind the artifact server, and the runtime's Manager watching one fresh namespace. For *.int.test.ts.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitRepositoryType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { createTestNamespace, eventually, loadKubeConfig, type TestNamespace } from "@capstan/cluster/testing";
import { createTestRepo, type GitHttpServer, startGitHttpServer, type TestRepo } from "@capstan/gitserver";
import { getCondition, KubeClient, type Manager, type PinoLogger, parseFlags } from "@capstan/runtime";
import { x as extract } from "tar";
import { expect } from "vitest";
import { createSourceController, type SourceController } from "../controller.js";
import { controllerName, sourceControllerFlags } from "../flags.js";
import type { GitRepositoryObject } from "../gitrepository/state.js";
import type { ArtifactServer } from "../server/server.js";
import type { Storage } from "../storage/storage.js";

export interface GitRepositoryHarnessOptions {
  kubeconfigPath: string;
  /** Prefix of the test namespace and of the temp directory. */
  prefix: string;
  /** Credentials the git server demands; none by default. */
  basicAuth?: { username: string; password: string };
  /** Secrets created in the namespace before the controller starts: name → stringData. */
  secrets?: Record<string, Record<string, string>>;
  /** Spec fields every `create` starts from, under the test's own; `interval: "10m"` is always among them. */
  specDefaults?: Record<string, unknown>;
  /** The reconciler's --artifact-max-size; its default otherwise. */
  artifactMaxSize?: number;
  /** The controller's logger, e.g. to collect its lines; by default it logs errors only. */
  logger?: PinoLogger;
  /** More controller flags, e.g. ["--helm-chart-max-size=4096"]. */
  extraArgs?: string[];
}

export const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

export class GitRepositoryHarness {
  /** Temp directory holding the git server's root, storage and anything a test extracts. */
  work!: string;
  gitRoot!: string;
  git!: GitHttpServer;
  artifacts!: ArtifactServer;
  storage!: Storage;
  client!: KubeClient;
  ns!: TestNamespace;
  manager!: Manager;
  controller: SourceController | undefined;
  private running: Promise<void> | undefined;
  private readonly repos: TestRepo[] = [];

  private constructor(private readonly o: GitRepositoryHarnessOptions) {}

  /** Starts everything; on a failure part way, stops what did start before rethrowing. */
  static async start(o: GitRepositoryHarnessOptions): Promise<GitRepositoryHarness> {
    const h = new GitRepositoryHarness(o);
    try {
      await h.init();
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  private async init(): Promise<void> {
    const { kubeconfigPath } = this.o;
    await ensureCrds(kubeconfigPath);
    this.work = await mkdtemp(join(tmpdir(), `capstan-${this.o.prefix}-int-`));
    this.gitRoot = join(this.work, "git");
    this.git = await startGitHttpServer({
      root: this.gitRoot,
      ...(this.o.basicAuth ? { basicAuth: this.o.basicAuth } : {}),
    });
    const storageRoot = join(this.work, "storage");
    this.client = new KubeClient({ kubeconfigPath });
    this.ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), this.o.prefix);
    for (const [name, stringData] of Object.entries(this.o.secrets ?? {})) {
      await this.client.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: this.ns.name },
        stringData,
      });
    }
    // The controller as main.ts wires it, with the flags of a test: loopback storage, this namespace, short delays.
    const parsed = parseFlags(controllerName, sourceControllerFlags, [
      "--health-addr=127.0.0.1:0",
      "--metrics-addr=127.0.0.1:0",
      "--watch-all-namespaces=false",
      `--namespace=${this.ns.name}`,
      "--log-level=error",
      "--min-retry-delay=100ms",
      "--max-retry-delay=2s",
      `--storage-path=${storageRoot}`,
      "--storage-addr=127.0.0.1:0",
      "--requeue-dependency=500ms",
      ...(this.o.artifactMaxSize ? [`--artifact-max-size=${this.o.artifactMaxSize}`] : []),
      ...(this.o.extraArgs ?? []),
    ]);
    if (parsed.help) throw new Error("unexpected --help");
    this.controller = await createSourceController({
      flags: parsed.values,
      client: this.client,
      env: {},
      ...(this.o.logger ? { logger: this.o.logger } : {}),
      handleSignals: false,
    });
    this.artifacts = this.controller.artifacts;
    this.storage = this.controller.storage;
    this.manager = this.controller.manager;
    this.running = this.controller.run();
    this.running.catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.controller?.stop();
    await this.running?.catch(() => undefined);
    await this.ns?.delete();
    this.client?.close();
    await this.git?.close();
    for (const r of this.repos) await rm(r.work, { recursive: true, force: true });
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }

  /** A repository served at `${git.url}/${path}` (path ends in .git), removed by stop(). */
  async repo(path: string): Promise<TestRepo> {
    const r = await createTestRepo(this.gitRoot, path, "main");
    this.repos.push(r);
    return r;
  }

  ref(name: string) {
    return { apiVersion: gitRepositoryType.apiVersion, kind: "GitRepository", namespace: this.ns.name, name };
  }

  get(name: string): Promise<GitRepositoryObject | undefined> {
    return this.client.get<GitRepositoryObject>(this.ref(name));
  }

  async create(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.client.create({
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace: this.ns.name },
      spec: { interval: "10m", ...this.o.specDefaults, ...spec },
    });
  }

  /** Waits for Ready=True with an artifact at exactly this revision (`main@sha1:<hex>`). */
  readyAt(name: string, revision: string): Promise<GitRepositoryObject> {
    return eventually(
      async () => {
        const obj = await this.get(name);
        const ready = obj && getCondition(obj, "Ready");
        return ready?.status === "True" && obj?.status?.artifact?.revision === revision ? obj : undefined;
      },
      { timeoutMs: 30_000, what: `${name} Ready at ${revision}` },
    );
  }

  /** Waits for Ready=True with any artifact. */
  ready(name: string, what = "Ready"): Promise<GitRepositoryObject> {
    return eventually(
      async () => {
        const o = await this.get(name);
        return o && getCondition(o, "Ready")?.status === "True" && o.status?.artifact ? o : undefined;
      },
      { timeoutMs: 30_000, what: `${name} ${what}` },
    );
  }

  /** Waits for Ready=False with this reason. */
  failing(name: string, reason: string): Promise<GitRepositoryObject> {
    return eventually(
      async () => {
        const o = await this.get(name);
        const r = o && getCondition(o, "Ready");
        return r?.status === "False" && r.reason === reason ? o : undefined;
      },
      { timeoutMs: 30_000, what: `${name} Ready=False with ${reason}` },
    );
  }

  /** Sets reconcile.fluxcd.io/requestedAt and waits until the controller has handled that request. */
  async requestReconcile(name: string, token: string): Promise<GitRepositoryObject> {
    await this.client.mergePatch(this.ref(name), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } },
    });
    return eventually(
      async () => {
        const obj = await this.get(name);
        return obj?.status?.lastHandledReconcileAt === token ? obj : undefined;
      },
      { what: `${name} handled ${token}` },
    );
  }

  /** GETs a URL, asserting 200. */
  async download(url: string): Promise<Buffer> {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Unpacks a tarball into a new directory `into` under work; returns that path. */
  async unpack(tarball: Buffer, into: string): Promise<string> {
    const out = join(this.work, into);
    await mkdir(out);
    await writeFile(`${out}.tgz`, tarball);
    await extract({ file: `${out}.tgz`, cwd: out });
    return out;
  }

  /** Downloads the object's artifact and unpacks it into a new directory `into` under work; returns that path. */
  async extractArtifact(obj: GitRepositoryObject, into: string): Promise<string> {
    return this.unpack(await this.download(obj.status?.artifact?.url ?? ""), into);
  }
}
