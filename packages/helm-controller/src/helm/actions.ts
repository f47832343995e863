// The helm commands of a HelmRelease's actions, with Flux's defaults mapped onto helm v4's flags. Pure argument
// builders (unit-tested) plus a Session that runs them for one release with one cluster access and identity.
import type { Install, Rollback, Test, Uninstall, Upgrade } from "@capstan/api";
import { accessArgs, type ClusterAccess } from "./access.js";
import { runHelm } from "./cli.js";
import type { HelmTelemetry } from "./telemetry.js";

export interface CommonActionOptions {
  timeoutMs: number;
  /** spec.maxHistory (default 5; 0 keeps all). */
  maxHistory: number;
  /** Name of the post-renderer plugin (spec.postRenderers) for install and upgrade. */
  postRenderer?: string;
  /**
   * (Capstan) The cluster validates fields on every write (Kubernetes 1.27 and later). helm's client-side OpenAPI
   * check then only asks the cluster whether it does (fetching and parsing its OpenAPI documents, about half of a
   * small install's CPU) and validates nothing itself, so it is skipped: what the cluster accepts is the same.
   */
  serverValidates?: boolean;
}

const postRendererArgs = (o: CommonActionOptions): string[] =>
  o.postRenderer ? ["--post-renderer", o.postRenderer] : [];

function waitArgs(disableWait: boolean | undefined, disableWaitForJobs: boolean | undefined): string[] {
  if (disableWait) return ["--wait=hookOnly"];
  return disableWaitForJobs ? ["--wait=watcher"] : ["--wait=watcher", "--wait-for-jobs"];
}

const flag = (on: boolean | undefined, name: string): string[] => (on ? [name] : []);

export function installArgs(
  release: string,
  chartPath: string,
  valuesPath: string,
  spec: Install,
  o: CommonActionOptions,
): string[] {
  const crds = spec.crds ?? (spec.skipCRDs ? "Skip" : "Create");
  return [
    "install",
    release,
    chartPath,
    "--values",
    valuesPath,
    "--timeout",
    `${o.timeoutMs}ms`,
    ...waitArgs(spec.disableWait, spec.disableWaitForJobs),
    ...flag(spec.createNamespace, "--create-namespace"),
    // CreateReplace: the controller applies the chart's CRDs itself before the install (src/helm/crds.ts).
    ...flag(crds === "Skip" || crds === "CreateReplace", "--skip-crds"),
    ...flag(spec.replace, "--replace"),
    ...flag(spec.disableHooks, "--no-hooks"),
    ...flag(spec.disableOpenAPIValidation || o.serverValidates, "--disable-openapi-validation"),
    ...flag(spec.disableSchemaValidation, "--skip-schema-validation"),
    ...flag(!spec.disableTakeOwnership, "--take-ownership"),
    ...(spec.serverSideApply === undefined ? [] : [`--server-side=${spec.serverSideApply}`]),
    ...postRendererArgs(o),
  ];
}

export function upgradeArgs(
  release: string,
  chartPath: string,
  valuesPath: string,
  spec: Upgrade,
  o: CommonActionOptions,
): string[] {
  return [
    "upgrade",
    release,
    chartPath,
    "--values",
    valuesPath,
    spec.preserveValues ? "--reuse-values" : "--reset-values",
    "--history-max",
    String(o.maxHistory),
    "--timeout",
    `${o.timeoutMs}ms`,
    ...waitArgs(spec.disableWait, spec.disableWaitForJobs),
    ...flag(spec.force, "--force-replace"),
    ...flag(spec.cleanupOnFail, "--cleanup-on-fail"),
    ...flag(spec.disableHooks, "--no-hooks"),
    ...flag(spec.disableOpenAPIValidation || o.serverValidates, "--disable-openapi-validation"),
    ...flag(spec.disableSchemaValidation, "--skip-schema-validation"),
    ...flag(!spec.disableTakeOwnership, "--take-ownership"),
    ...(spec.serverSideApply === undefined ? [] : [`--server-side=${serverSide(spec.serverSideApply)}`]),
    ...postRendererArgs(o),
  ];
}

function serverSide(v: "enabled" | "disabled" | "auto"): string {
  return v === "enabled" ? "true" : v === "disabled" ? "false" : "auto";
}

export function rollbackArgs(release: string, revision: number, spec: Rollback, o: CommonActionOptions): string[] {
  return [
    "rollback",
    release,
    String(revision),
    "--history-max",
    String(o.maxHistory),
    "--timeout",
    `${o.timeoutMs}ms`,
    ...waitArgs(spec.disableWait, spec.disableWaitForJobs),
    ...flag(spec.force, "--force-replace"),
    ...flag(spec.cleanupOnFail, "--cleanup-on-fail"),
    ...flag(spec.disableHooks, "--no-hooks"),
    ...(spec.serverSideApply === undefined ? [] : [`--server-side=${serverSide(spec.serverSideApply)}`]),
  ];
}

export function uninstallArgs(release: string, spec: Uninstall, o: Pick<CommonActionOptions, "timeoutMs">): string[] {
  return [
    "uninstall",
    release,
    "--ignore-not-found",
    "--cascade",
    spec.deletionPropagation ?? "background",
    "--timeout",
    `${o.timeoutMs}ms`,
    ...(spec.disableWait ? [] : ["--wait=watcher"]),
    ...flag(spec.keepHistory, "--keep-history"),
    ...flag(spec.disableHooks, "--no-hooks"),
  ];
}

/** `helm show crds`: the CRDs of the chart's crds/ directories (its dependencies' included), as YAML documents. */
export function showCrdsArgs(chartPath: string): string[] {
  return ["show", "crds", chartPath];
}

export function testArgs(release: string, spec: Test, o: Pick<CommonActionOptions, "timeoutMs">): string[] {
  const filters = (spec.filters ?? []).map((f) => `${f.exclude ? "!" : ""}name=${f.name}`);
  return ["test", release, "--timeout", `${o.timeoutMs}ms`, ...(filters.length ? ["--filter", filters.join(",")] : [])];
}

export interface SessionOptions {
  binary: string;
  workDir: string;
  access: ClusterAccess;
  /** Namespace of the release and its storage (helm's --namespace). */
  namespace: string;
  impersonateUser?: string;
  redact: readonly string[];
  signal?: AbortSignal;
  /** Discovery cache shared between forks (KUBECACHEDIR): only for the controller's own cluster. */
  kubeCacheDir?: string;
  /** Counts the forks and their CPU (capstan_helm_* metrics). */
  telemetry?: HelmTelemetry;
  /** Runs each command as a span of the reconcile trace (`helm.<command>`): the runtime's `traced`. */
  span?<R>(name: string, fn: () => Promise<R>): Promise<R>;
}

/** Runs helm commands for one release: same cluster, identity, namespace and redactions for each. */
export class HelmSession {
  constructor(private readonly o: SessionOptions) {}

  /** Runs `args`, killing helm 30 s after the action's own timeout would have ended it. */
  async run(args: string[], timeoutMs: number, maxStdoutBytes = 1024 * 1024): Promise<string> {
    const command = args[0] ?? "helm";
    const telemetry = this.o.telemetry;
    let cpuSeconds = 0;
    const go = async () => {
      let result: "success" | "error" = "error";
      try {
        const { stdout } = await runHelm(
          [...args, ...accessArgs(this.o.access, this.o.namespace, this.o.impersonateUser)],
          {
            binary: this.o.binary,
            workDir: this.o.workDir,
            deadlineMs: timeoutMs + 30_000,
            env: this.o.access.env,
            redact: this.o.redact,
            ...(this.o.signal ? { signal: this.o.signal } : {}),
            maxStdoutBytes,
            ...(this.o.kubeCacheDir ? { kubeCacheDir: this.o.kubeCacheDir } : {}),
            ...(telemetry
              ? {
                  onExit: () => {
                    cpuSeconds = telemetry.reapedCpuSeconds();
                  },
                }
              : {}),
          },
        );
        result = "success";
        return stdout;
      } finally {
        telemetry?.command(command, result, cpuSeconds);
      }
    };
    return this.o.span ? this.o.span(`helm.${command}`, go) : go();
  }
}
