// The workload of Flux's published benchmark (fluxcd/flux-benchmark): N apps, each a GitRepository plus a
// Kustomization (interval 60m, prune, wait, timeout 1m, postBuild substitute) applying a ServiceAccount, a Service, a
// Deployment with 0 replicas and an Ingress. All GitRepositories clone one repository; the app's names and version
// come from postBuild variables, so the "upgrade" is one variable (APP_VERSION) changed in every Kustomization.
import { setTimeout as sleep } from "node:timers/promises";
import { type Condition, createInformer, getCondition, type KubeClient, type KubeObject } from "@capstan/runtime";
import { stringify } from "yaml";
import type { TimedDeployment } from "./cluster.js";
import { shardKey, shardOfApp } from "./shards.js";

export const appsNamespace = "apps";
export const fluxNamespace = "flux-system";

/** The repository's files: one kustomize overlay whose names and version are postBuild variables. */
export function repoFiles(): Record<string, string> {
  const labelsAt = (indent: string) =>
    `${indent}app.kubernetes.io/name: \${APP_NAME}\n${indent}app.kubernetes.io/version: \${APP_VERSION}\n`;
  const labels = labelsAt("    ");
  return {
    "app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - serviceaccount.yaml
  - service.yaml
  - deployment.yaml
  - ingress.yaml
`,
    "app/serviceaccount.yaml": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: \${APP_NAME}
  labels:
${labels}`,
    // Headless: the local control plane's service IP range is a /24, too small for 1,000 ClusterIP Services.
    "app/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: \${APP_NAME}
  labels:
${labels}spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: \${APP_NAME}
  ports:
    - name: http
      port: 9898
      targetPort: 9898
`,
    "app/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: \${APP_NAME}
  labels:
${labels}spec:
  replicas: 0
  selector:
    matchLabels:
      app.kubernetes.io/name: \${APP_NAME}
  template:
    metadata:
      labels:
${labelsAt("        ")}    spec:
      serviceAccountName: \${APP_NAME}
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:\${APP_VERSION}
          ports:
            - containerPort: 9898
`,
    "app/ingress.yaml": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: \${APP_NAME}
  labels:
${labels}spec:
  rules:
    - host: \${APP_NAME}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: \${APP_NAME}
                port:
                  number: 9898
`,
  };
}

/** Where the apps come from: the Git repository (Flux's benchmark), or the same files as an OCI artifact. */
export type AppsSource = { kind: "GitRepository"; url: string } | { kind: "OCIRepository"; url: string; tag: string };

/**
 * The 2N objects applied at once: N sources (GitRepositories, or OCIRepositories of a plain-HTTP registry) and N
 * Kustomizations, as one multi-document YAML. A string `source` is a Git URL. With `shards` K > 0, app i's source
 * and Kustomization are both labelled `sharding.fluxcd.io/key: shard<(i mod K) + 1>` (round-robin).
 */
export function appsYaml(n: number, source: string | AppsSource, version: string, shards = 0): string {
  const from: AppsSource = typeof source === "string" ? { kind: "GitRepository", url: source } : source;
  const docs: KubeObject[] = [];
  for (let i = 0; i < n; i++) {
    const name = `app-${i}`;
    const shard = shardOfApp(i, shards);
    const metadata = { name, namespace: fluxNamespace, ...(shard ? { labels: { [shardKey]: shard } } : {}) };
    docs.push({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: from.kind,
      metadata,
      spec:
        from.kind === "GitRepository"
          ? { interval: "60m", url: from.url, ref: { branch: "main" } }
          : { interval: "60m", url: from.url, ref: { tag: from.tag }, insecure: true },
    } as KubeObject);
    docs.push({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata,
      spec: {
        interval: "60m",
        path: "./app",
        prune: true,
        wait: true,
        timeout: "1m",
        targetNamespace: appsNamespace,
        sourceRef: { kind: from.kind, name },
        postBuild: { substitute: { APP_NAME: name, APP_VERSION: version } },
      },
    } as KubeObject);
  }
  return docs.map((d) => stringify(d)).join("---\n");
}

type Reconciled = KubeObject & {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
};

const readyAtGeneration = (o: Reconciled) =>
  getCondition(o, "Ready")?.status === "True" && o.status?.observedGeneration === o.metadata.generation;

/**
 * Counts the objects of a set and how many of them are Ready at their generation, one update at a time: what the
 * watch-driven untilAllReady keeps (O(1) per event, whatever N).
 */
export class ReadyCount {
  private readonly ready = new Map<string, boolean>();
  private readyCount = 0;
  set(key: string, isReady: boolean): void {
    const was = this.ready.get(key);
    if (was === true) this.readyCount--;
    this.ready.set(key, isReady);
    if (isReady) this.readyCount++;
  }
  delete(key: string): void {
    if (this.ready.get(key) === true) this.readyCount--;
    this.ready.delete(key);
  }
  get total(): number {
    return this.ready.size;
  }
  get readyTotal(): number {
    return this.readyCount;
  }
  firstNotReady(): string | undefined {
    for (const [k, r] of this.ready) if (!r) return k;
    return undefined;
  }
}

/**
 * Waits until all N sources (GitRepositories unless told) and all N Kustomizations are Ready at their current
 * generation; resolves with performance.now() at the watch event that made it so. One informer per kind (a paginated
 * list, then a watch from its resourceVersion, relisting on 410 Gone): the apiserver sends each status change once,
 * instead of the 2N objects every 250 ms the bench's former poll listed (at N = 10,000, 80,000 objects a second).
 * The same on both sides. The objects are cut to name, generation and the Ready condition before they are kept.
 */
export async function untilAllReady(
  client: KubeClient,
  n: number,
  timeoutMs: number,
  sourceKind: AppsSource["kind"] = "GitRepository",
): Promise<number> {
  const count = new ReadyCount();
  let doneAt: number | undefined;
  const keep = (o: Reconciled): Reconciled => {
    const ready = getCondition(o, "Ready");
    return {
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        resourceVersion: o.metadata.resourceVersion,
        generation: o.metadata.generation,
      },
      status: { observedGeneration: o.status?.observedGeneration, conditions: ready ? [ready] : [] },
    } as Reconciled;
  };
  const check = () => {
    if (doneAt === undefined && count.total === 2 * n && count.readyTotal === 2 * n) doneAt = performance.now();
  };
  const informers = [];
  for (const [apiVersion, kind] of [
    ["source.toolkit.fluxcd.io/v1", sourceKind],
    ["kustomize.toolkit.fluxcd.io/v1", "Kustomization"],
  ] as const) {
    const informer = createInformer<Reconciled>(client, await client.resourceFor(apiVersion, kind), {
      namespace: fluxNamespace,
      transform: keep,
      resyncPeriodMs: 0,
    });
    const key = (o: Reconciled) => `${kind}/${o.metadata.name}`;
    informer.addHandlers({
      onAdd: (o) => {
        count.set(key(o), readyAtGeneration(o));
        check();
      },
      onUpdate: (_, o) => {
        count.set(key(o), readyAtGeneration(o));
        check();
      },
      onDelete: (o) => count.delete(key(o)),
    });
    informers.push(informer);
  }
  try {
    await Promise.all(informers.map((i) => i.start()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (doneAt !== undefined) return doneAt;
      if (Date.now() > deadline) {
        const stuck = count.firstNotReady();
        const [kind, name] = stuck?.split("/") ?? [];
        const obj = informers[kind === "Kustomization" ? 1 : 0]?.cache
          .list(fluxNamespace)
          .find((o) => o.metadata.name === name);
        throw new Error(
          `not all Ready in ${timeoutMs / 1000} s: ${count.total - count.readyTotal} of ${count.total} not Ready; e.g. ${stuck}: ${JSON.stringify(
            obj ? (getCondition(obj, "Ready") ?? null) : null,
          )}`,
        );
      }
      await sleep(250);
    }
  } finally {
    for (const i of informers) i.stop();
  }
}

type Deployment = TimedDeployment & { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };

/**
 * Checks that the controllers did the work: N Deployments in the apps namespace, all at `version`'s image. Returns
 * them (bench/peer reads their timeline from them).
 */
export async function checkApplied(client: KubeClient, n: number, version: string): Promise<Deployment[]> {
  const type = await client.resourceFor("apps/v1", "Deployment");
  const { items } = await client.list<Deployment>(type, { namespace: appsNamespace });
  const current = items.filter((d) => d.spec?.template?.spec?.containers?.[0]?.image?.endsWith(`:${version}`));
  if (items.length !== n || current.length !== n) {
    throw new Error(`expected ${n} Deployments at ${version}, found ${items.length} (${current.length} at ${version})`);
  }
  return items;
}
