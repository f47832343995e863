// The client a Kustomization applies with: the controller's own, one impersonating spec.serviceAccountName (or
// --default-service-account), or one for the remote cluster of spec.kubeConfig.secretRef. The Secret is the
// tenant's: its kubeconfig is parsed by the runtime's inline-only parser, and a field it refuses (exec, auth-provider,
// file paths) stalls the Kustomization with a message naming the field, never its value.
import { KustomizationReasons } from "@capstan/api";
import type { Client as RuntimeClient } from "@capstan/runtime";
import {
  decodeSecretStrings,
  KubeconfigRefusedError,
  ReconcileError,
  readSecret,
  refuseConfigMapKubeconfig,
  type SecretObject,
  SecretReadError,
  StallingError,
} from "@capstan/runtime";
import type { KustomizationObject } from "./types.js";

/** What the provider needs of the runtime's KubeClient. */
export interface ImpersonatingClient extends RuntimeClient {
  impersonate(impersonation: { user: string; groups?: string[] }): RuntimeClient;
}

export interface ClientProviderOptions {
  root: ImpersonatingClient;
  /** --default-service-account: impersonated when the object names none. */
  defaultServiceAccount?: string;
  /** Builds a client from kubeconfig YAML (KubeClient.fromKubeconfig). */
  fromKubeconfig: FromKubeconfig;
  /** --insecure-kubeconfig-tls: a kubeconfig may set insecure-skip-tls-verify. */
  insecureKubeconfigTls?: boolean;
}

/** KubeClient.fromKubeconfig's shape: inline credentials only, KubeconfigRefusedError for anything else. */
export type FromKubeconfig = (yaml: string, options: { allowInsecureTls: boolean }) => ImpersonatingClient;

export class ClientProvider {
  private readonly remote = new Map<string, { version: string; client: ImpersonatingClient }>();
  constructor(private readonly options: ClientProviderOptions) {}

  async forObject(obj: KustomizationObject): Promise<RuntimeClient> {
    const namespace = obj.metadata.namespace ?? "default";
    let base: ImpersonatingClient = this.options.root;
    const kubeConfig = obj.spec.kubeConfig;
    if (kubeConfig?.configMapRef) {
      await refuseConfigMapKubeconfig(
        this.options.root,
        namespace,
        kubeConfig.configMapRef,
        KustomizationReasons.ReconciliationFailed,
      );
    }
    if (kubeConfig?.secretRef) base = await this.remoteClient(namespace, kubeConfig.secretRef);
    const account = obj.spec.serviceAccountName || this.options.defaultServiceAccount;
    if (!account) return base;
    // The user only, as Flux does: for a ServiceAccount user the apiserver adds system:serviceaccounts,
    // system:serviceaccounts:<ns> and system:authenticated itself. Sending them as Impersonate-Group would need
    // `impersonate` on groups, which RBAC cannot narrow to these names (the per-namespace one varies), and an
    // unnarrowed grant lets the controller impersonate system:masters.
    return base.impersonate({ user: `system:serviceaccount:${namespace}:${account}` });
  }

  private async remoteClient(namespace: string, ref: { name: string; key?: string }): Promise<ImpersonatingClient> {
    const id = `Secret/${namespace}/${ref.name}`;
    let secret: SecretObject;
    try {
      secret = await readSecret(this.options.root, { namespace, name: ref.name }, "kubeconfig");
    } catch (err) {
      // Retried, not stalled: the Secret may be created or fixed after the Kustomization (Cluster API writes it later).
      if (err instanceof SecretReadError && err.notFound) {
        throw new ReconcileError(`kubeconfig ${id} not found`, { reason: KustomizationReasons.ReconciliationFailed });
      }
      throw err instanceof SecretReadError ? err.cause : err;
    }
    const data = decodeSecretStrings(secret.data);
    const keys = ref.key ? [ref.key] : ["value", "value.yaml"];
    const key = keys.find((k) => data[k]);
    const yaml = key === undefined ? undefined : data[key];
    if (key === undefined || yaml === undefined) {
      throw new ReconcileError(`kubeconfig ${id} has no key ${keys.map((k) => `'${k}'`).join(" or ")}`, {
        reason: KustomizationReasons.ReconciliationFailed,
      });
    }
    const cacheKey = `${namespace}/${ref.name}/${key}`;
    const version = secret.metadata.resourceVersion ?? "";
    const cached = this.remote.get(cacheKey);
    if (cached?.version === version) return cached.client;
    const client = loadKubeconfig(this.options, yaml, `${id} key '${key}'`);
    this.remote.set(cacheKey, { version, client });
    return client;
  }
}

/**
 * Builds the remote client. A refused kubeconfig stalls (Flux's reason ReconciliationFailed, but Stalled: retrying
 * cannot help until the Secret changes; the fixed Secret is read at the next reconcile, after a spec change or
 * `flux reconcile`). The message names
 * the field only; any other error is reduced to a fixed text and its cause dropped, so logs cannot show credentials.
 */
function loadKubeconfig(options: ClientProviderOptions, yaml: string, where: string): ImpersonatingClient {
  try {
    return options.fromKubeconfig(yaml, {
      allowInsecureTls: options.insecureKubeconfigTls ?? false,
    });
  } catch (err) {
    if (err instanceof KubeconfigRefusedError) {
      throw new StallingError(`kubeconfig ${where} cannot be used: ${err.message}`, {
        reason: KustomizationReasons.ReconciliationFailed,
      });
    }
    throw new ReconcileError(`kubeconfig ${where} cannot be loaded: not a valid kubeconfig`, {
      reason: KustomizationReasons.ReconciliationFailed,
    });
  }
}
