// How the helm child reaches the cluster: the controller's own kubeconfig (or the in-cluster service account), a
// remote cluster's kubeconfig written for one reconcile (spec.kubeConfig), and the ServiceAccount it impersonates
// (spec.serviceAccountName, or --default-service-account) through --kube-as-user, as client-go does for Flux.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface ClusterAccess {
  /** A kubeconfig file for --kubeconfig; undefined: the in-cluster configuration (service account token). */
  kubeconfigPath?: string;
  /** Environment the child needs for in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT). */
  env: Record<string, string>;
}

/** The controller's own access, in controller-runtime's order: --kubeconfig, in-cluster, $KUBECONFIG, ~/.kube/config. */
export function controllerAccess(
  kubeconfigFlag: string | undefined,
  env: Record<string, string | undefined> = process.env,
): ClusterAccess {
  if (kubeconfigFlag) return { kubeconfigPath: kubeconfigFlag, env: {} };
  if (env.KUBECONFIG) {
    const first = env.KUBECONFIG.split(delimiter).find((p) => p && existsSync(p));
    if (first) return { kubeconfigPath: first, env: {} };
  }
  if (env.KUBERNETES_SERVICE_HOST) {
    return {
      env: {
        KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST,
        KUBERNETES_SERVICE_PORT: env.KUBERNETES_SERVICE_PORT ?? "443",
      },
    };
  }
  if (env.HOME && existsSync(join(env.HOME, ".kube", "config"))) {
    return { kubeconfigPath: join(env.HOME, ".kube", "config"), env: {} };
  }
  throw new Error("helm access: no kubeconfig found (set --kubeconfig or KUBECONFIG, or run in a cluster)");
}

/** The global flags of every helm command of one release: cluster, impersonation, storage namespace. */
export function accessArgs(access: ClusterAccess, namespace: string, impersonateUser?: string): string[] {
  const args = ["--namespace", namespace];
  if (access.kubeconfigPath) args.push("--kubeconfig", access.kubeconfigPath);
  if (impersonateUser) args.push("--kube-as-user", impersonateUser);
  return args;
}
