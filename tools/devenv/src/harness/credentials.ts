// The credentials a controller has once its chart is installed: its ServiceAccount, the RBAC the chart binds to it, and
// a token for that account. The harness runs every controller with a kubeconfig holding only that token, so a
// permission the chart forgets fails the test that needs it, as it would fail in a cluster.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "@capstan/cluster/testing";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { AuthorizationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { ControllerName, RenderedObject } from "./charts.js";

const fieldManager = "capstan-e2e-chart";

/** What the chart installs to give a controller its rights. */
export const credentialKinds = ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"] as const;

/** The chart's ServiceAccount and RBAC objects for these controllers (every chart object carries app.kubernetes.io/name). */
export function credentialObjects(objects: RenderedObject[], controllers: readonly ControllerName[]): RenderedObject[] {
  return objects.filter(
    (o) =>
      (credentialKinds as readonly string[]).includes(o.kind) &&
      controllers.includes(o.metadata.labels?.["app.kubernetes.io/name"] as ControllerName),
  );
}

/**
 * Creates the chart's ServiceAccounts and RBAC with the admin client, as `helm install` would. Returns a function that
 * deletes the cluster-scoped ones (the namespaced ones go with the namespace).
 */
export async function applyCredentials(
  adminKubeconfig: string,
  objects: RenderedObject[],
): Promise<() => Promise<void>> {
  const client = new KubeClient({ kubeconfigPath: adminKubeconfig });
  for (const obj of objects) await client.apply(obj as KubeObject, { fieldManager, force: true });
  return async () => {
    for (const obj of objects.filter((o) => o.kind.startsWith("Cluster"))) {
      await client
        .delete({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name })
        .catch(() => undefined);
    }
  };
}

/**
 * Waits until the apiserver's authorizer grants the account what it needs first (RBAC objects reach the authorizer's
 * cache a moment after they are written), so a controller does not start into a burst of refusals.
 */
export async function waitForGrant(
  kc: KubeConfig,
  user: string,
  attributes: { verb: string; group: string; resource: string; namespace?: string },
): Promise<void> {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  await eventually(
    async () => {
      const review = await authz.createSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: { user, resourceAttributes: attributes },
        },
      });
      return review.status?.allowed === true;
    },
    { timeoutMs: 30_000, what: `${user} allowed to ${attributes.verb} ${attributes.resource}` },
  );
}

/**
 * A kubeconfig holding only a token of the ServiceAccount (TokenRequest API), the control plane's address and CA:
 * what the in-cluster config of the controller's pod would give it.
 */
export async function serviceAccountKubeconfig(
  kc: KubeConfig,
  namespace: string,
  serviceAccount: string,
  path: string,
  expirationSeconds = 86_400,
): Promise<string> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("serviceAccountKubeconfig: the admin kubeconfig has no current cluster");
  const core = kc.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString("base64") : undefined);
  if (!ca) throw new Error("serviceAccountKubeconfig: the admin kubeconfig has no CA for the control plane");
  const name = `${namespace}-${serviceAccount}`;
  writeFileSync(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "capstan", cluster: { server: cluster.server, "certificate-authority-data": ca } }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: "capstan", user: name, namespace } }],
      "current-context": name,
    }),
    { mode: 0o600 },
  );
  return path;
}

/** The username the apiserver gives a ServiceAccount's token. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * Lines of a controller's log where the apiserver refused the controller's own account: a permission its chart should
 * grant and does not. Refusals of an impersonated tenant account are the tenant's business and are not counted.
 */
export function permissionRefusals(logFile: string, namespace: string, serviceAccount: string): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return [];
  }
  const user = serviceAccountUser(namespace, serviceAccount);
  // The message sits in a JSON log line, so its quotes may be escaped.
  const refused = new RegExp(`${user.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\\\?" cannot`);
  return text.split("\n").filter((line) => refused.test(line));
}

export const kubeconfigPathFor = (dir: string, controller: ControllerName) => join(dir, `${controller}.kubeconfig`);
