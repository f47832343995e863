// A kustomize-controller running in this process against a real apiserver, fed by GitRepositories whose status a
// test (or the bench) sets, pointing at tarballs on a loopback HTTP server. For integration tests and bench/.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { kustomizationType } from "@capstan/api";
import { KubeClient, Manager, parseFlags, type RequestInfo } from "@capstan/runtime";
import { create } from "tar";
import {
  controllerName,
  type KustomizeController,
  type KustomizeControllerOptions,
  registerKustomizeController,
} from "../controller.js";
import { behaviourFromFlags, kustomizeControllerFlags } from "../flags.js";
import type { KustomizationObject } from "../kustomization/types.js";

export { ensureCrds } from "@capstan/api/testing";

export interface PublishedArtifact {
  url: string;
  digest: string;
  revision: string;
}

export interface HarnessOptions {
  kubeconfigPath: string;
  kustomizeBinary: string;
  /** The pinned sops binary (spec.decryption). */
  sopsBinary?: string;
  /** Namespace the Kustomizations and GitRepositories live in (created by the caller). */
  namespace: string;
  /**
   * Extra controller flags (the harness sets addresses, namespace and log level). They select behaviour as main.ts
   * does (--default-service-account, --feature-gates, --drift-watch...), except the short artifact retries and
   * dependency requeue the harness always uses: change those through `options`.
   */
  flags?: string[];
  /** Overrides of registerKustomizeController's options. */
  options?: Partial<KustomizeControllerOptions>;
  /** Watch only `namespace` (default) or all namespaces. */
  allNamespaces?: boolean;
  /** Client-side rate limit of the controller's client; default none (tests), the chart's is qps 50, burst 300. */
  qps?: number;
  burst?: number;
}

/** API requests of the controller's client, by verb and resource ("apply deployments"). */
export class RequestCounter {
  readonly counts = new Map<string, number>();
  readonly hook = (info: RequestInfo): void => {
    const key = `${info.verb} ${info.resource}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  };
  total(filter: (key: string) => boolean = () => true): number {
    let n = 0;
    for (const [k, v] of this.counts) if (filter(k)) n += v;
    return n;
  }
  reset(): void {
    this.counts.clear();
  }
  /** Requests other than watches (long-running, counted once when they end). */
  calls(): number {
    return this.total((k) => !k.startsWith("watch "));
  }
}

export class Harness {
  readonly requests = new RequestCounter();
  readonly client: KubeClient;
  /** The controller's own client (its requests are counted). */
  readonly controllerClient: KubeClient;
  manager!: Manager;
  kustomize!: KustomizeController;
  private server!: Server;
  private base = "";
  private work = "";
  private running: Promise<void> | undefined;
  private readonly files = new Map<string, Buffer>();

  constructor(private readonly options: HarnessOptions) {
    this.client = new KubeClient({ kubeconfigPath: options.kubeconfigPath });
    this.controllerClient = new KubeClient({
      kubeconfigPath: options.kubeconfigPath,
      userAgent: controllerName,
      onRequest: this.requests.hook,
      qps: options.qps ?? 0,
      ...(options.burst !== undefined ? { burst: options.burst } : {}),
    });
  }

  get namespace(): string {
    return this.options.namespace;
  }

  async start(): Promise<this> {
    this.work = await mkdtemp(join(tmpdir(), "ks-harness-"));
    this.server = createServer((req, res) => {
      const body = this.files.get(req.url ?? "");
      res.writeHead(body ? 200 : 404);
      res.end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const parsed = parseFlags(controllerName, kustomizeControllerFlags, [
      "--health-addr=127.0.0.1:0",
      "--metrics-addr=127.0.0.1:0",
      ...(this.options.allNamespaces
        ? ["--watch-all-namespaces=true"]
        : ["--watch-all-namespaces=false", `--namespace=${this.options.namespace}`]),
      "--log-level=error",
      ...(this.options.flags ?? []),
    ]);
    if (parsed.help) throw new Error("unexpected --help");
    this.manager = new Manager({
      name: controllerName,
      flags: parsed.values,
      client: this.controllerClient,
      handleSignals: false,
    });
    this.kustomize = registerKustomizeController({
      manager: this.manager,
      client: this.controllerClient,
      fromKubeconfig: (yaml, o) => KubeClient.fromKubeconfig(yaml, o),
      kustomizeBinary: this.options.kustomizeBinary,
      ...(this.options.sopsBinary ? { sopsBinary: this.options.sopsBinary } : {}),
      artifactCacheDir: join(this.work, "cache"),
      ...behaviourFromFlags(parsed.values),
      httpRetry: 2,
      minBackoffMs: 50,
      requeueDependencyMs: 500,
      healthIntervalMs: 500,
      ...this.options.options,
    });
    this.running = this.manager.start();
    return this;
  }

  get cacheDir(): string {
    return join(this.work, "cache");
  }

  /** Packs files into a tarball served on loopback; returns what a GitRepository's status.artifact carries. */
  async artifact(tree: Record<string, string>): Promise<PublishedArtifact> {
    const dir = await mkdtemp(join(this.work, "src-"));
    for (const [p, text] of Object.entries(tree)) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), text);
    }
    const file = join(this.work, `${randomBytes(4).toString("hex")}.tar.gz`);
    await create({ gzip: true, file, cwd: dir, portable: true }, ["."]);
    const body = await readFile(file);
    await rm(dir, { recursive: true, force: true });
    await rm(file, { force: true });
    return this.rawArtifact(body);
  }

  /** Serves a tarball exactly as given (a hostile one, say); returns what a GitRepository's status.artifact carries. */
  rawArtifact(body: Buffer): PublishedArtifact {
    const sha = createHash("sha256").update(body).digest("hex");
    this.files.set(`/${sha}.tar.gz`, body);
    return {
      url: `${this.base}/${sha}.tar.gz`,
      digest: `sha256:${sha}`,
      revision: `main@sha1:${randomBytes(20).toString("hex")}`,
    };
  }

  /** Creates or updates a GitRepository (in the harness's namespace unless told) and sets its status as source-controller would. */
  async publish(name: string, a: PublishedArtifact, namespace = this.options.namespace): Promise<void> {
    const ref = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" };
    const metadata = { name, namespace };
    await this.client.apply(
      { ...ref, metadata, spec: { url: "https://git.invalid/repo", interval: "10m" } },
      { fieldManager: "test" },
    );
    await this.client.applyStatus(
      {
        ...ref,
        metadata,
        status: {
          artifact: { ...a, path: "x.tar.gz", lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
        },
      },
      { fieldManager: "source-controller", force: true },
    );
  }

  async kustomization(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.client.apply(
      {
        apiVersion: kustomizationType.apiVersion,
        kind: kustomizationType.kind,
        metadata: { name, namespace: this.options.namespace },
        spec: {
          interval: "10m",
          timeout: "30s",
          prune: true,
          sourceRef: { kind: "GitRepository", name: "repo" },
          ...spec,
        },
      },
      { fieldManager: "test" },
    );
  }

  getKustomization(name: string): Promise<KustomizationObject | undefined> {
    return this.client.get<KustomizationObject>({
      apiVersion: kustomizationType.apiVersion,
      kind: "Kustomization",
      name,
      namespace: this.options.namespace,
    });
  }

  async stop(): Promise<void> {
    await this.manager?.stop();
    await this.running?.catch(() => undefined);
    this.kustomize?.stop();
    this.client.close();
    this.controllerClient.close();
    if (this.server) await new Promise((r) => this.server.close(r));
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }
}

export function readyOf(k: KustomizationObject | undefined) {
  return k?.status?.conditions?.find((c) => c.type === "Ready");
}
