// Where a release's helm commands run and as whom: the controller's cluster (or spec.kubeConfig's remote cluster,
// whose kubeconfig is written into the pass's scratch directory for helm), impersonating spec.serviceAccountName or
// --default-service-account. The release's storage is read with the same identity.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HelmReleaseReasons } from "@capstan/api";
import {
  type Client,
  decodeSecretStrings,
  KubeconfigRefusedError,
  parseInlineKubeconfig,
  ReconcileError,
  readSecret,
  refuseConfigMapKubeconfig,
  SecretReadError,
  StallingError,
} from "@capstan/runtime";
import type { ClusterAccess } from "../helm/access.js";
import type { HelmReleaseObject, Target } from "./types.js";

export interface ImpersonatingClient extends Client {
  impersonate(impersonation: { user: string; groups?: string[] }): Client;
}

export interface TargetOptions {
  root: ImpersonatingClient;
  access: ClusterAccess;
  defaultServiceAccount?: string;
  fromKubeconfig(yaml: string, options: { allowInsecureTls: boolean }): ImpersonatingClient;
  insecureKubeconfigTls?: boolean;
}

export async function targetFor(o: TargetOptions, obj: HelmReleaseObject, workDir: string): Promise<Target> {
  const namespace = obj.metadata.namespace ?? "default";
  const account = obj.spec.serviceAccountName || o.defaultServiceAccount;
  const user = account ? `system:serviceaccount:${namespace}:${account}` : undefined;
  let base = o.root;
  let access = o.access;
  const kubeConfig = obj.spec.kubeConfig;
  if (kubeConfig?.configMapRef) {
    await refuseConfigMapKubeconfig(o.root, namespace, kubeConfig.configMapRef, HelmReleaseReasons.InitFailed);
  }
  if (kubeConfig?.secretRef) {
    const yaml = await kubeconfigText(o.root, namespace, kubeConfig.secretRef);
    const where = `Secret/${namespace}/${kubeConfig.secretRef.name}`;
    try {
      parseInlineKubeconfig(yaml, { allowInsecureTls: o.insecureKubeconfigTls ?? false });
      base = o.fromKubeconfig(yaml, { allowInsecureTls: o.insecureKubeconfigTls ?? false });
    } catch (err) {
      if (err instanceof KubeconfigRefusedError) {
        throw new StallingError(`kubeconfig ${where} cannot be used: ${err.message}`, {
          reason: HelmReleaseReasons.InitFailed,
        });
      }
      throw new ReconcileError(`kubeconfig ${where} cannot be loaded: not a valid kubeconfig`, {
        reason: HelmReleaseReasons.InitFailed,
      });
    }
    const path = join(workDir, "kubeconfig");
    await writeFile(path, yaml, { mode: 0o600 });
    access = { kubeconfigPath: path, env: {} };
  }
  return {
    client: user ? base.impersonate({ user }) : base,
    access,
    ...(user ? { impersonateUser: user } : {}),
  };
}

async function kubeconfigText(root: Client, namespace: string, ref: { name: string; key?: string }): Promise<string> {
  const id = `Secret/${namespace}/${ref.name}`;
  try {
    const secret = await readSecret(root, { namespace, name: ref.name }, "kubeconfig");
    const data = decodeSecretStrings(secret.data);
    const keys = ref.key ? [ref.key] : ["value", "value.yaml"];
    const key = keys.find((k) => data[k]);
    if (key === undefined) {
      throw new ReconcileError(`kubeconfig ${id} has no key ${keys.map((k) => `'${k}'`).join(" or ")}`, {
        reason: HelmReleaseReasons.InitFailed,
      });
    }
    return data[key] ?? "";
  } catch (err) {
    if (err instanceof SecretReadError && err.notFound) {
      throw new ReconcileError(`kubeconfig ${id} not found`, { reason: HelmReleaseReasons.InitFailed });
    }
    throw err instanceof SecretReadError ? new Error(`read kubeconfig ${id}`, { cause: err.cause }) : err;
  }
}
