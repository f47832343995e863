// Where the client's configuration comes from, in controller-runtime's order (GetConfig): an explicit kubeconfig
// wins, then in-cluster service account credentials, then $KUBECONFIG and ~/.kube/config.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

export interface KubeConfigSource {
  /** A kubeconfig file given explicitly (a --kubeconfig flag). */
  kubeconfigPath?: string;
  /** Context to use instead of the kubeconfig's current-context. */
  context?: string;
  /** Environment to consult (defaults to process.env, read when called, never at import). */
  env?: Record<string, string | undefined>;
}

const serviceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const env = source.env ?? process.env;
  const kc = new KubeConfig();
  // Only the operator's own kubeconfig comes this way: client-node acts on it as kubectl would (exec plugins, files).
  // A kubeconfig someone else wrote goes through KubeClient.fromKubeconfig, which never hands it to client-node.
  if (source.kubeconfigPath) {
    kc.loadFromFile(source.kubeconfigPath);
  } else if (env.KUBECONFIG) {
    loadFiles(kc, env.KUBECONFIG.split(delimiter).filter(Boolean));
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(serviceAccountTokenPath)) {
    kc.loadFromCluster();
  } else if (env.HOME && existsSync(join(env.HOME, ".kube", "config"))) {
    kc.loadFromFile(join(env.HOME, ".kube", "config"));
  } else {
    throw new Error("load kubeconfig: none found (set --kubeconfig or KUBECONFIG, or run in a cluster)");
  }
  if (source.context) kc.setCurrentContext(source.context);
  if (!kc.getCurrentCluster()) {
    throw new Error("load kubeconfig: no current cluster (set --kubeconfig, KUBECONFIG, or run in a cluster)");
  }
  return kc;
}

// $KUBECONFIG may list several files; like kubectl, the first one that sets a value wins.
function loadFiles(kc: KubeConfig, files: string[]): void {
  const existing = files.filter((f) => existsSync(f));
  const [first, ...rest] = existing;
  if (!first) throw new Error(`load kubeconfig: none of the files in KUBECONFIG exist (${files.join(delimiter)})`);
  kc.loadFromFile(first);
  for (const file of rest) {
    const more = new KubeConfig();
    more.loadFromFile(file);
    kc.mergeConfig(more, true);
  }
}
