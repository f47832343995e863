// spec.kubeConfig.configMapRef (Flux's kubeconfig through workload identity): a ConfigMap naming a `provider` (aws,
// azure, gcp, generic) and the cluster (`cluster`, `address`, `ca.crt`, `audiences`, `serviceAccountName`), from
// which Flux's controllers mint short-lived credentials: a cloud provider's token exchange for aws/azure/gcp, a
// Kubernetes ServiceAccount token for generic. Capstan has neither yet, so every controller that takes a kubeConfig
// refuses it here, with one message per provider saying why and what works instead. Shared so kustomize-controller
// and helm-controller say the same.
import type { Client, KubeObject } from "../contracts.js";
import { ReconcileError, StallingError } from "../reconcile/errors.js";

const cloud: Record<string, string> = {
  aws: "AWS IAM (EKS)",
  azure: "Azure Managed Identity (AKS)",
  gcp: "GCP Workload Identity (GKE)",
};

/** Reads the ConfigMap and always throws: stalls with why its provider cannot be used, or retries when it is missing. */
export async function refuseConfigMapKubeconfig(
  client: Client,
  namespace: string,
  ref: { name: string },
  reason: string,
): Promise<never> {
  const id = `ConfigMap/${namespace}/${ref.name}`;
  const cm = await client.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    name: ref.name,
    namespace,
  });
  // Retried, not stalled: the ConfigMap may come later (as a kubeconfig Secret may).
  if (!cm) throw new ReconcileError(`spec.kubeConfig.configMapRef: ${id} not found`, { reason });
  const provider = cm.data?.provider ?? "";
  const instead = "use spec.kubeConfig.secretRef with an inline kubeconfig instead";
  let why: string;
  if (provider in cloud) {
    why = `provider '${provider}' authenticates through ${cloud[provider]} workload identity, which needs the cloud provider's credentials exchange: not supported by Capstan`;
  } else if (provider === "generic") {
    why =
      "provider 'generic' (a ServiceAccount token minted for the cluster at 'address') is not supported by Capstan yet";
  } else if (provider === "") {
    why = "no 'provider' key (one of aws, azure, gcp, generic)";
  } else {
    why = `unknown provider (one of aws, azure, gcp, generic)`;
  }
  throw new StallingError(`spec.kubeConfig.configMapRef: ${id}: ${why}; ${instead}`, { reason });
}
