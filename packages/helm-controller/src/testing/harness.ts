// A helm-controller running in this process against a real apiserver, fed by HelmCharts whose status a test sets (as
// source-controller would), pointing at charts packaged with the real `helm package` and served on loopback. For
// integration tests.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { helmChartType, helmReleaseType } from "@capstan/api";
import { ensureBinaries } from "@capstan/cluster";
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { KubeClient, type KubeObject, Manager, parseFlags } from "@capstan/runtime";
import { afterAll, beforeAll, inject } from "vitest";
import { controllerName, registerHelmController } from "../controller.js";
import { behaviourFromFlags, helmControllerFlags } from "../flags.js";
import type { HelmChartObject, HelmReleaseObject } from "../helmrelease/types.js";

export { ensureCrds } from "@capstan/api/testing";

const run = promisify(execFile);

export interface PublishedChart {
  url: string;
  digest: string;
  revision: string;
  /** The packaged chart on disk (for `helm install` by hand). */
  file: string;
}

export class Harness {
  readonly client: KubeClient;
  readonly controllerClient: KubeClient;
  manager!: Manager;
  helm = "";
  kustomize = "";
  private server!: Server;
  private base = "";
  work = "";
  private running: Promise<void> | undefined;
  private readonly files = new Map<string, Buffer>();

  constructor(
    readonly kubeconfigPath: string,
    readonly namespace: string,
    private readonly flags: string[] = [],
  ) {
    this.client = new KubeClient({ kubeconfigPath });
    this.controllerClient = new KubeClient({ kubeconfigPath, userAgent: controllerName, qps: 0 });
  }

  async start(): Promise<this> {
    const { bin } = await ensureBinaries();
    this.helm = bin.helm;
    this.kustomize = bin.kustomize;
    this.work = await mkdtemp(join(tmpdir(), "helm-harness-"));
    this.server = createServer((req, res) => {
      const body = this.files.get(req.url ?? "");
      res.writeHead(body ? 200 : 404);
      res.end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const parsed = parseFlags(controllerName, helmControllerFlags, [
      "--health-addr=127.0.0.1:0",
      "--metrics-addr=127.0.0.1:0",
      "--watch-all-namespaces=false",
      `--namespace=${this.namespace}`,
      "--log-level=error",
      `--work-dir=${join(this.work, "scratch")}`,
      ...this.flags,
    ]);
    if (parsed.help) throw new Error("unexpected --help");
    this.manager = new Manager({
      name: controllerName,
      flags: parsed.values,
      client: this.controllerClient,
      handleSignals: false,
    });
    registerHelmController({
      manager: this.manager,
      client: this.controllerClient,
      access: { kubeconfigPath: this.kubeconfigPath, env: {} },
      fromKubeconfig: (yaml, o) => KubeClient.fromKubeconfig(yaml, o),
      helmBinary: this.helm,
      kustomizeBinary: this.kustomize,
      ...behaviourFromFlags(parsed.values),
      requeueDependencyMs: 500,
    });
    this.running = this.manager.start();
    return this;
  }

  /** Writes a chart directory, packages it with the real `helm package`, and serves the tgz. */
  async chart(files: Record<string, string>): Promise<PublishedChart> {
    const dir = await mkdtemp(join(this.work, "chart-"));
    for (const [p, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, "src", p)), { recursive: true });
      await writeFile(join(dir, "src", p), text);
    }
    const { stdout } = await this.runHelm(["package", join(dir, "src"), "--destination", dir]);
    const file = stdout.trim().split(": ").at(-1) ?? "";
    const body = await readFile(file);
    const sha = createHash("sha256").update(body).digest("hex");
    this.files.set(`/${sha}.tgz`, body);
    const version = /version: *"?([^"\n]+)"?/.exec(files["Chart.yaml"] ?? "")?.[1] ?? "";
    return { url: `${this.base}/${sha}.tgz`, digest: `sha256:${sha}`, revision: version, file };
  }

  /** Runs the real helm CLI against the test cluster. */
  runHelm(args: string[]): Promise<{ stdout: string }> {
    return run(this.helm, [...args, "--kubeconfig", this.kubeconfigPath], {
      env: { PATH: "/usr/bin:/bin", HOME: this.work },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000,
    });
  }

  /** Sets a HelmChart's status as source-controller would once it packaged `chart` (creating the HelmChart if need be). */
  async publish(name: string, chart: PublishedChart, namespace = this.namespace): Promise<void> {
    const ref = { apiVersion: helmChartType.apiVersion, kind: helmChartType.kind };
    const existing = await this.client.get<HelmChartObject>({ ...ref, name, namespace });
    if (!existing) {
      await this.client.apply(
        {
          ...ref,
          metadata: { name, namespace },
          spec: { chart: "demo", sourceRef: { kind: "HelmRepository", name: "repo" }, interval: "10m" },
        },
        { fieldManager: "test" },
      );
    }
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const current = await this.client.get<HelmChartObject>({ ...ref, name, namespace });
    await this.client.applyStatus(
      {
        ...ref,
        metadata: { name, namespace },
        status: {
          observedGeneration: current?.metadata.generation ?? 1,
          artifact: {
            path: `helmchart/${namespace}/${name}/chart.tgz`,
            url: chart.url,
            revision: chart.revision,
            digest: chart.digest,
            lastUpdateTime: now,
          },
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "ChartPullSucceeded",
              message: `pulled 'demo' chart with version '${chart.revision}'`,
              lastTransitionTime: now,
              observedGeneration: current?.metadata.generation ?? 1,
            },
          ],
        },
      },
      { fieldManager: "source-controller", force: true },
    );
  }

  async helmRelease(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.client.apply(
      {
        apiVersion: helmReleaseType.apiVersion,
        kind: helmReleaseType.kind,
        metadata: { name, namespace: this.namespace },
        spec: { interval: "10m", timeout: "30s", ...spec },
      },
      { fieldManager: "test", force: true },
    );
  }

  /** The data of a ConfigMap of the test namespace (undefined when it does not exist). */
  async configMapData(name: string): Promise<Record<string, string> | undefined> {
    const cm = await this.client.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: "v1",
      kind: "ConfigMap",
      name,
      namespace: this.namespace,
    });
    return cm ? (cm.data ?? {}) : undefined;
  }

  getHelmRelease(name: string): Promise<HelmReleaseObject | undefined> {
    return this.client.get<HelmReleaseObject>({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      name,
      namespace: this.namespace,
    });
  }

  async stop(): Promise<void> {
    await this.manager?.stop();
    await this.running?.catch(() => undefined);
    this.client.close();
    this.controllerClient.close();
    if (this.server) await new Promise((r) => this.server.close(r));
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }
}

export function conditionOf(obj: HelmReleaseObject | undefined, type: string) {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** One controller on one fresh namespace, shared by the tests of a file. */
export function fileScenario(
  prefix: string,
  flags: string[] = [],
): { readonly h: Harness; readonly ns: TestNamespace } {
  let h: Harness | undefined;
  let ns: TestNamespace | undefined;
  beforeAll(async () => {
    const kubeconfigPath = testKubeconfigPath(inject("capstanKubeconfig"));
    const { ensureCrds } = await import("@capstan/api/testing");
    await ensureCrds(kubeconfigPath);
    ns = await createTestNamespace(loadKubeConfig(kubeconfigPath), prefix);
    h = await new Harness(kubeconfigPath, ns.name, flags).start();
  });
  afterAll(async () => {
    await h?.stop();
    await ns?.delete();
  });
  return {
    get h() {
      if (!h) throw new Error("fileScenario: read before beforeAll");
      return h;
    },
    get ns() {
      if (!ns) throw new Error("fileScenario: read before beforeAll");
      return ns;
    },
  };
}

/** Another fresh namespace for the tests of a file (say, a storage namespace), deleted after them. */
export function extraNamespace(prefix: string): { readonly name: string } {
  let ns: TestNamespace | undefined;
  beforeAll(async () => {
    ns = await createTestNamespace(loadKubeConfig(testKubeconfigPath(inject("capstanKubeconfig"))), prefix);
  });
  afterAll(async () => {
    await ns?.delete();
  });
  return {
    get name() {
      if (!ns) throw new Error("extraNamespace: read before beforeAll");
      return ns.name;
    },
  };
}

/** A small chart: a Deployment (replicas and nodeSelector from values) and a ConfigMap echoing `message`. */
export function demoChart(version = "1.0.0", extra: Record<string, string> = {}): Record<string, string> {
  return {
    "Chart.yaml": `apiVersion: v2\nname: demo\nversion: ${version}\nappVersion: "${version}-app"\n`,
    "values.yaml": "replicaCount: 1\nmessage: hello\nnodeSelector: {}\n",
    "templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      nodeSelector: {{ toJson .Values.nodeSelector }}
      containers:
        - name: app
          image: registry.invalid/demo:{{ .Chart.AppVersion }}
`,
    "templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
`,
    ...extra,
  };
}
