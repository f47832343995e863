// Reads what the rendered Helm charts give each controller's container: args and env. The end-to-end suite and the
// demo start the controllers as local processes with exactly these, so what is tested is what a chart installs.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../paths.js";

export { repoRoot };

const run = promisify(execFile);
export const chartsDir = join(repoRoot, "charts");

export const controllerNames = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
] as const;
export type ControllerName = (typeof controllerNames)[number];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
}

export interface ContainerSpec {
  controller: ControllerName;
  /** The pod's ServiceAccount: whose rights the controller runs with. */
  serviceAccountName: string;
  args: string[];
  env: EnvVar[];
  ports: Record<string, number>;
}

export async function helm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { bin } = await ensureBinaries();
  try {
    const out = await run(bin.helm, args, {
      env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), "capstan-helm-cache"), ...env },
      maxBuffer: 32 * 1024 * 1024,
    });
    return out.stdout;
  } catch (err) {
    throw new Error(`helm ${args[0]}: ${(err as { stderr?: string }).stderr ?? String(err)}`, { cause: err });
  }
}

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderedChart {
  /** Every object `helm template` printed (CRDs not included). */
  objects: RenderedObject[];
  /** The controllers' containers, one per Deployment. */
  containers: ContainerSpec[];
}

/**
 * Renders the umbrella chart (from a temp copy, so the repo never gets packaged dependencies). The release name names
 * the cluster-scoped objects (ClusterRole <release>-<controller>), so parallel environments each pass their own.
 */
export async function renderChart(
  namespace: string,
  setValues: string[] = [],
  release = "capstan",
): Promise<RenderedChart> {
  const copy = mkdtempSync(join(tmpdir(), "capstan-charts-"));
  try {
    cpSync(chartsDir, copy, { recursive: true });
    await helm(["dependency", "build", join(copy, "capstan")]);
    const sets = setValues.flatMap((s) => ["--set", s]);
    const yaml = await helm(["template", release, join(copy, "capstan"), "-n", namespace, ...sets]);
    const objects = parseAllDocuments(yaml)
      .map((d) => d.toJSON() as RenderedObject | null)
      .filter((d): d is RenderedObject => d !== null && typeof d.kind === "string");
    return { objects, containers: objects.filter((d) => d.kind === "Deployment").map(containerSpec) };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** The containers the rendered charts give each controller. */
export async function renderControllers(namespace: string, setValues: string[] = []): Promise<ContainerSpec[]> {
  return (await renderChart(namespace, setValues)).containers;
}

function containerSpec(d: RenderedObject): ContainerSpec {
  const name = d.metadata.name as ControllerName;
  const spec = d.spec as { template: { spec: { serviceAccountName?: string; containers: Container[] } } };
  const container = spec.template.spec.containers[0];
  if (!container) throw new Error(`rendered Deployment ${name} has no container`);
  return {
    controller: name,
    serviceAccountName: spec.template.spec.serviceAccountName ?? "default",
    args: container.args ?? [],
    env: container.env ?? [],
    ports: Object.fromEntries((container.ports ?? []).map((p) => [p.name ?? String(p.containerPort), p.containerPort])),
  };
}

/** Resolves env the way the kubelet would for a pod named podName in namespace. */
export function resolveEnv(env: EnvVar[], namespace: string, podName: string): Record<string, string> {
  const fields: Record<string, string> = { "metadata.namespace": namespace, "metadata.name": podName };
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = expand(e.value, out);
    else if (e.valueFrom?.fieldRef) {
      const v = fields[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined)
        throw new Error(`env ${e.name}: fieldRef ${e.valueFrom.fieldRef.fieldPath} not supported locally`);
      out[e.name] = v;
    }
  }
  return out;
}

/** Kubernetes' $(VAR) expansion in args; $$ escapes. */
export function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    name === undefined ? "$" : (vars[name] ?? m),
  );
}

/**
 * `helm install` of the umbrella chart (from a temp copy) into namespace, as a user installs it: CRDs (kept if already
 * there), ServiceAccounts, RBAC, Deployments, Services. Resolves to a function that uninstalls the release.
 */
export async function installChart(
  kubeconfig: string,
  namespace: string,
  release: string,
  setValues: string[] = [],
): Promise<() => Promise<void>> {
  const copy = mkdtempSync(join(tmpdir(), "capstan-charts-"));
  const env = { KUBECONFIG: kubeconfig };
  try {
    cpSync(chartsDir, copy, { recursive: true });
    await helm(["dependency", "build", join(copy, "capstan")]);
    const sets = setValues.flatMap((s) => ["--set", s]);
    await helm(["install", release, join(copy, "capstan"), "-n", namespace, "--wait=false", ...sets], env);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  return async () => {
    await helm(["uninstall", release, "-n", namespace], env).catch(() => undefined);
  };
}
