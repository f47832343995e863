// Reads what the rendered Helm charts give each controller's container: args and env. The end-to-end suite and the
// demo start the controllers as local processes with exactly these, so what is tested is what a chart installs.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, "..", "..", "..");
export const chartsDir = join(repoRoot, "charts");

export const controllerNames = ["source-controller", "kustomize-controller", "notification-controller"] as const;
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

/** Renders the umbrella chart (from a temp copy, so the repo never gets packaged dependencies) into containers. */
export async function renderControllers(namespace: string, setValues: string[] = []): Promise<ContainerSpec[]> {
  const copy = mkdtempSync(join(tmpdir(), "capstan-charts-"));
  try {
    cpSync(chartsDir, copy, { recursive: true });
    await helm(["dependency", "build", join(copy, "capstan")]);
    const sets = setValues.flatMap((s) => ["--set", s]);
    const yaml = await helm(["template", "capstan", join(copy, "capstan"), "-n", namespace, ...sets]);
    return parseAllDocuments(yaml)
      .map((d) => d.toJSON() as { kind?: string; metadata?: { name?: string }; spec?: unknown } | null)
      .filter((d) => d?.kind === "Deployment")
      .map((d) => {
        const name = d?.metadata?.name as ControllerName;
        const spec = d?.spec as { template: { spec: { containers: Container[] } } };
        const container = spec.template.spec.containers[0];
        if (!container) throw new Error(`rendered Deployment ${name} has no container`);
        return {
          controller: name,
          args: container.args ?? [],
          env: container.env ?? [],
          ports: Object.fromEntries(
            (container.ports ?? []).map((p) => [p.name ?? String(p.containerPort), p.containerPort]),
          ),
        };
      });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
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
