// The workload of Flux's published benchmark (fluxcd/flux-benchmark): N apps, each a GitRepository plus a
// Kustomization (interval 60m, prune, wait, timeout 1m, postBuild substitute) applying a ServiceAccount, a Service, a
// Deployment with 0 replicas and an Ingress. All GitRepositories clone one repository; the app's names and version
// come from postBuild variables, so the "upgrade" is one variable (APP_VERSION) changed in every Kustomization.
import { setTimeout as sleep } from "node:timers/promises";
import { type Condition, getCondition, type KubeClient, type KubeObject } from "@capstan/runtime";
import { stringify } from "yaml";

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
 * Kustomizations, as one multi-document YAML. A string `source` is a Git URL.
 */
export function appsYaml(n: number, source: string | AppsSource, version: string): string {
  const from: AppsSource = typeof source === "string" ? { kind: "GitRepository", url: source } : source;
  const docs: KubeObject[] = [];
  for (let i = 0; i < n; i++) {
    const name = `app-${i}`;
    docs.push({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: from.kind,
      metadata: { name, namespace: fluxNamespace },
      spec:
        from.kind === "GitRepository"
          ? { interval: "60m", url: from.url, ref: { branch: "main" } }
          : { interval: "60m", url: from.url, ref: { tag: from.tag }, insecure: true },
    } as KubeObject);
    docs.push({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name, namespace: fluxNamespace },
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
 * Polls until all N sources (GitRepositories unless told) and all N Kustomizations are Ready at their current
 * generation; resolves with performance.now() at the poll that saw it. Polling is the same on both sides (one list of
 * each kind per 250 ms).
 */
export async function untilAllReady(
  client: KubeClient,
  n: number,
  timeoutMs: number,
  sourceKind: AppsSource["kind"] = "GitRepository",
): Promise<number> {
  const kinds = [
    await client.resourceFor("source.toolkit.fluxcd.io/v1", sourceKind),
    await client.resourceFor("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
  ];
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const now = performance.now();
    const lists = await Promise.all(
      kinds.map((k) => client.list<Reconciled>(k, { namespace: fluxNamespace }).then((l) => l.items)),
    );
    const notReady = lists.flat().filter((o) => !readyAtGeneration(o));
    const count = lists.reduce((a, l) => a + l.length, 0);
    if (count === 2 * n && notReady.length === 0) return now;
    const stuck = notReady[0];
    last = `${notReady.length} of ${count} not Ready; e.g. ${stuck?.kind} ${stuck?.metadata.name}: ${JSON.stringify(
      getCondition(stuck ?? ({} as Reconciled), "Ready") ?? null,
    )}`;
    if (Date.now() > deadline) throw new Error(`not all Ready in ${timeoutMs / 1000} s: ${last}`);
    await sleep(250);
  }
}

type Deployment = KubeObject & { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };

/** Checks that the controllers did the work: N Deployments in the apps namespace, all at `version`'s image. */
export async function checkApplied(client: KubeClient, n: number, version: string): Promise<void> {
  const type = await client.resourceFor("apps/v1", "Deployment");
  const { items } = await client.list<Deployment>(type, { namespace: appsNamespace });
  const current = items.filter((d) => d.spec?.template?.spec?.containers?.[0]?.image?.endsWith(`:${version}`));
  if (items.length !== n || current.length !== n) {
    throw new Error(`expected ${n} Deployments at ${version}, found ${items.length} (${current.length} at ${version})`);
  }
}
