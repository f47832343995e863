// Test helpers against the run's real control plane: CRDs, namespaces, ServiceAccount tokens (TokenRequest), RBAC,
// toolkit objects with a status written directly (no controllers needed), and a dashboard started in-process.
import { gitRepositoryType, kustomizationType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  rawRequest,
  type TestNamespace,
} from "@capstan/cluster/testing";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { type Dashboard, type DashboardOptions, startDashboard } from "../server/index.js";

export const fm = { fieldManager: "dashboard-test", force: true };
export const rev = (n: number) => `main@sha1:${n.toString(16).padStart(40, "0")}`;
const T0 = "2026-01-01T10:00:00Z";

export interface TestCluster {
  path: string;
  client: KubeClient;
  namespaces: TestNamespace[];
  namespace(prefix: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function testCluster(path: string): Promise<TestCluster> {
  await ensureCrds(path);
  const client = new KubeClient({ kubeconfigPath: path });
  const namespaces: TestNamespace[] = [];
  return {
    path,
    client,
    namespaces,
    namespace: async (prefix) => {
      const ns = await createTestNamespace(loadKubeConfig(path), prefix);
      namespaces.push(ns);
      return ns.name;
    },
    cleanup: async () => {
      for (const ns of namespaces) await ns.delete();
      client.close();
    },
  };
}

/** A token of a new ServiceAccount, from the TokenRequest API. */
export async function serviceAccountToken(path: string, client: KubeClient, namespace: string, name: string) {
  await client.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
  const res = await rawRequest(
    loadKubeConfig(path),
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } } },
  );
  const token = res.json<{ status?: { token?: string } }>().status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name}: HTTP ${res.status}`);
  return { token, user: `system:serviceaccount:${namespace}:${name}` };
}

/** A Role in `namespace` with `verbs` on the toolkit kinds and Events, bound to `user` (or a group: `group:<name>`). */
export async function grant(client: KubeClient, namespace: string, user: string, verbs: string[], name = "dash") {
  const subject = user.startsWith("group:")
    ? { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: user.slice(6) }
    : { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: user };
  await client.apply(
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name, namespace },
      rules: [
        {
          apiGroups: ["kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io"],
          resources: [
            "kustomizations",
            "gitrepositories",
            "helmreleases",
            "helmrepositories",
            "helmcharts",
            "ocirepositories",
          ],
          verbs,
        },
        { apiGroups: [""], resources: ["events", "configmaps", "secrets"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
      ],
    },
    fm,
  );
  await client.apply(
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [subject],
    },
    fm,
  );
}

export interface User {
  token: string;
  user: string;
}

/** The opening the server and browser tests share: two team namespaces with a GitRepository each, an operator. */
export interface TwoTeams {
  teamA: string;
  teamB: string;
  /** May get, list, watch and patch the toolkit kinds in both namespaces. */
  operator: User;
  /** May get, list and watch them in teamA only. */
  viewer: User;
}

export async function twoTeams(tc: TestCluster, prefix: string): Promise<TwoTeams> {
  const teamA = await tc.namespace(`${prefix}-a`);
  const teamB = await tc.namespace(`${prefix}-b`);
  for (const ns of [teamA, teamB]) await gitRepository(tc.client, ns, "repo");
  const viewer = await serviceAccountToken(tc.path, tc.client, teamA, "viewer");
  const operator = await serviceAccountToken(tc.path, tc.client, teamA, "operator");
  await grant(tc.client, teamA, viewer.user, ["get", "list", "watch"], "viewer");
  for (const ns of [teamA, teamB]) {
    await grant(tc.client, ns, operator.user, ["get", "list", "watch", "patch"], "operator");
  }
  return { teamA, teamB, operator, viewer };
}

export interface ReadyInit {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}
export const ready: ReadyInit = {
  status: "True",
  reason: "ReconciliationSucceeded",
  message: "Applied revision: main@sha1:1",
};

export async function gitRepository(client: KubeClient, namespace: string, name: string, revision = rev(1)) {
  await client.apply(
    {
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace },
      spec: { url: `https://token:s3cr3t@github.com/acme/${name}.git`, interval: "1m", ref: { branch: "main" } },
    },
    fm,
  );
  await client.applyStatus(
    {
      apiVersion: gitRepositoryType.apiVersion,
      kind: "GitRepository",
      metadata: { name, namespace },
      status: {
        observedGeneration: 1,
        artifact: {
          path: `gitrepository/${namespace}/${name}/x.tar.gz`,
          url: "http://source-controller/x.tar.gz",
          revision,
          digest: `sha256:${"a".repeat(64)}`,
          lastUpdateTime: T0,
          size: 1234,
        },
        conditions: [{ type: "Ready", lastTransitionTime: T0, observedGeneration: 1, ...ready }],
      },
    },
    fm,
  );
}

export interface KsInit {
  source?: string;
  dependsOn?: string[];
  inventory?: { id: string; v: string }[];
  revision?: string;
}

export async function kustomization(
  client: KubeClient,
  namespace: string,
  name: string,
  cond: ReadyInit = ready,
  init: KsInit = {},
): Promise<KubeObject> {
  await client.apply(
    {
      apiVersion: kustomizationType.apiVersion,
      kind: "Kustomization",
      metadata: { name, namespace },
      spec: {
        interval: "5m",
        prune: true,
        path: `./apps/${name}`,
        sourceRef: { kind: "GitRepository", name: init.source ?? "repo" },
        ...(init.dependsOn ? { dependsOn: init.dependsOn.map((d) => ({ name: d })) } : {}),
      },
    },
    fm,
  );
  return setKsStatus(client, namespace, name, cond, init);
}

export async function setKsStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  cond: ReadyInit,
  init: KsInit = {},
): Promise<KubeObject> {
  const revision = init.revision ?? rev(1);
  return client.applyStatus(
    {
      apiVersion: kustomizationType.apiVersion,
      kind: "Kustomization",
      metadata: { name, namespace },
      status: {
        observedGeneration: 1,
        lastAttemptedRevision: revision,
        ...(cond.status === "True" ? { lastAppliedRevision: revision } : {}),
        conditions: [
          {
            type: "Ready",
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            observedGeneration: 1,
            ...cond,
          },
        ],
        ...(init.inventory ? { inventory: { entries: init.inventory } } : {}),
      },
    },
    fm,
  );
}

/**
 * helm-controller's HelmRelease CRD, when the cluster has none yet: a schemaless stand-in (this branch's @capstan/api
 * does not carry it), enough for the dashboard to list HelmReleases. A real CRD already installed is left alone.
 */
export async function ensureHelmReleaseCrd(client: KubeClient): Promise<void> {
  const name = "helmreleases.helm.toolkit.fluxcd.io";
  const ref = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name };
  if (!(await client.get(ref))) {
    await client
      .create({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name },
        spec: {
          group: "helm.toolkit.fluxcd.io",
          names: { kind: "HelmRelease", listKind: "HelmReleaseList", plural: "helmreleases", singular: "helmrelease" },
          scope: "Namespaced",
          versions: [
            {
              name: "v2",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          ],
        },
      })
      .catch((err: unknown) => {
        // Another test file created it first.
        if (!String((err as Error).message).includes("already exists")) throw err;
      });
  }
  await eventually(
    async () => {
      const crd = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(ref);
      return crd?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true;
    },
    { what: "HelmRelease CRD established" },
  );
}

/** A HelmRelease of chart `chart` at `version`, released (Ready) or failing, with the status helm-controller writes. */
export async function helmRelease(
  client: KubeClient,
  namespace: string,
  name: string,
  chart: string,
  version: string,
  cond: ReadyInit = ready,
): Promise<void> {
  const apiVersion = "helm.toolkit.fluxcd.io/v2";
  await client.apply(
    {
      apiVersion,
      kind: "HelmRelease",
      metadata: { name, namespace },
      spec: {
        interval: "10m",
        chart: { spec: { chart, version, sourceRef: { kind: "HelmRepository", name: "charts" } } },
      },
    },
    fm,
  );
  await client.applyStatus(
    {
      apiVersion,
      kind: "HelmRelease",
      metadata: { name, namespace },
      status: {
        observedGeneration: 1,
        lastAttemptedRevision: version,
        // The HelmChart source-controller builds for spec.chart, as helm-controller records it.
        helmChart: `${namespace}/${namespace}-${name}`,
        history: [
          {
            chartName: chart,
            chartVersion: version,
            name,
            namespace,
            version: 1,
            status: "deployed",
            // The fields the real CRD requires of a snapshot (the schemaless stand-in takes them too).
            configDigest: `sha256:${"0".repeat(64)}`,
            digest: `sha256:${"1".repeat(64)}`,
            firstDeployed: "2026-01-01T00:00:00Z",
            lastDeployed: "2026-01-01T00:00:00Z",
          },
        ],
        conditions: [
          {
            type: "Ready",
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            observedGeneration: 1,
            ...cond,
          },
        ],
      },
    },
    fm,
  );
}

export interface ArtifactInit {
  revision: string;
  digest: string;
  size?: number;
  /** RFC 3339; default T0. */
  lastUpdateTime?: string;
}

/**
 * A Helm or OCI source (HelmRepository, HelmChart, OCIRepository) with `spec`, and the status source-controller writes:
 * an artifact (when given) and Ready.
 */
export async function fluxSource(
  client: KubeClient,
  kind: "HelmRepository" | "HelmChart" | "OCIRepository",
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  artifact: ArtifactInit | undefined,
  cond: ReadyInit = ready,
): Promise<void> {
  const apiVersion = "source.toolkit.fluxcd.io/v1";
  await client.apply({ apiVersion, kind, metadata: { name, namespace }, spec: { interval: "10m", ...spec } }, fm);
  const plural = kind.toLowerCase();
  await client.applyStatus(
    {
      apiVersion,
      kind,
      metadata: { name, namespace },
      status: {
        observedGeneration: 1,
        ...(artifact
          ? {
              artifact: {
                path: `${plural}/${namespace}/${name}/artifact.tgz`,
                url: `http://source-controller/${plural}/${namespace}/${name}/artifact.tgz`,
                revision: artifact.revision,
                digest: artifact.digest,
                lastUpdateTime: artifact.lastUpdateTime ?? T0,
                ...(artifact.size !== undefined ? { size: artifact.size } : {}),
              },
            }
          : {}),
        conditions: [
          {
            type: "Ready",
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            observedGeneration: 1,
            ...cond,
          },
        ],
      },
    },
    fm,
  );
}

/** A Warning Event about a Kustomization, as kustomize-controller records one. */
export async function ksEvent(client: KubeClient, namespace: string, ks: string, reason: string, message: string) {
  await createKsEvent(client, namespace, ks, { type: "Warning", reason, message });
}

/** A Normal Progressing Event with an apply's change set and its revision, as kustomize-controller records one. */
export async function progressingEvent(
  client: KubeClient,
  namespace: string,
  ks: string,
  revision: string,
  message: string,
  time: Date,
) {
  await createKsEvent(client, namespace, ks, { type: "Normal", reason: "Progressing", message, revision, time });
}

async function createKsEvent(
  client: KubeClient,
  namespace: string,
  ks: string,
  e: { type: string; reason: string; message: string; revision?: string; time?: Date },
) {
  const at = (e.time ?? new Date()).toISOString().replace(/\.\d+Z$/, "Z");
  await client.create({
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      generateName: `${ks}.`,
      namespace,
      name: "",
      ...(e.revision ? { annotations: { "kustomize.toolkit.fluxcd.io/revision": e.revision } } : {}),
    },
    involvedObject: { apiVersion: kustomizationType.apiVersion, kind: "Kustomization", name: ks, namespace },
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: "kustomize-controller" },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  });
}

export function dashboard(client: KubeClient, options: Partial<DashboardOptions> = {}): Promise<Dashboard> {
  return startDashboard({ client, accessTtlMs: 1_000, ...options });
}
