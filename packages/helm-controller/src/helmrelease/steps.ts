// The HelmRelease's steps, in the order they run (the runtime's step shape): check the spec, make a scratch
// directory, check dependencies, resolve the chart (HelmChart artifact), compose values, pick the cluster and
// identity, read the release's storage, then release: install, upgrade, test and remediate as Flux's helm-controller
// does, with the real helm binary. The end of every pass records status.history from Helm's storage and removes the
// scratch directory.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { HelmEventAnnotations, HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import {
  markFalse,
  markTrue,
  namedStep,
  type ReconcileContext,
  ReconcileError,
  removeCondition,
  StallingError,
  type Step,
  type StepsOutcome,
  traced,
} from "@capstan/runtime";
import type { ChartCache } from "../chart/cache.js";
import type { ChartArtifact } from "../chart/fetch.js";
import { ChartFetchError } from "../chart/fetch.js";
import { fetchPackage } from "../chart/package.js";
import { compileIgnoreRules } from "../drift/selector.js";
import {
  HelmSession,
  installArgs,
  rollbackArgs,
  showCrdsArgs,
  testArgs,
  uninstallArgs,
  upgradeArgs,
} from "../helm/actions.js";
import { cleanMessage, HelmCommandError } from "../helm/cli.js";
import { applyCrds, type CrdPolicy, crdObjects } from "../helm/crds.js";
import { configDigest, type HelmReleaseRecord, isPending, ReleaseStatus, releaseId } from "../helm/release.js";
import { ReleaseStorage } from "../helm/storage.js";
import type { HelmTelemetry } from "../helm/telemetry.js";
import {
  checkPostRenderers,
  commonMetadataDigest,
  type ManifestLimits,
  originLabels,
  type PostRendererFiles,
  postRenderersDigest,
  postRenderFailure,
  writePostRenderer,
} from "../postrender/plugin.js";
import { composeValues, ValuesError } from "../values/compose.js";
import { resolveChart } from "./chart-source.js";
import { checkDependencies as checkDependsOn } from "./dependencies.js";
import { checkDrift } from "./drift.js";
import { chartId, historyOf } from "./history.js";
import { releaseNameOf, releaseNamespaceOf, storageNamespaceOf } from "./names.js";
import { type ChartVersionMemo, mutateChart } from "./oci-source.js";
import { uninstallPreviousTarget } from "./previous-target.js";
import { shouldHandleForceRequest, shouldHandleResetRequest } from "./requests.js";
import { type TargetOptions, targetFor } from "./target.js";
import { checkDurations, timeoutOf } from "./timing.js";
import { type HelmReleaseObject, need, type State, type Target } from "./types.js";

export interface StepDeps {
  helmBinary: string;
  target: TargetOptions;
  fieldManager: string;
  requeueDependencyMs: number;
  noCrossNamespaceRefs: boolean;
  /** Largest chart artifact downloaded, in bytes. */
  chartMaxBytes: number;
  /** Parent of the per-pass scratch directories. */
  workRoot: string;
  /** The pinned kustomize that spec.postRenderers run with; undefined when none was found. */
  kustomizeBinary?: string;
  /** Bounds of a rendered release, checked by the post-renderer before helm applies anything. */
  manifestLimits: ManifestLimits;
  /** (Capstan) Chart artifacts kept by digest; undefined: every action downloads its chart. */
  chartCache?: ChartCache;
  /** (Capstan) Chart versions of OCIRepository packages read before; undefined: every pass reads the package. */
  chartVersions?: ChartVersionMemo;
  /**
   * (Capstan) Discovery cache the helm forks share (KUBECACHEDIR) when they reach the controller's own cluster; a
   * spec.kubeConfig release keeps its own in the scratch directory (another cluster, reached with tenant credentials).
   */
  kubeCacheDir?: string;
  /**
   * (Capstan) The controller's own cluster validates fields on every write (Kubernetes 1.27 and later): helm's
   * client-side OpenAPI check is skipped for releases there (src/helm/actions.ts, `serverValidates`).
   */
  serverFieldValidation?: boolean;
  /** (Capstan) Counts helm forks, their CPU and chart fetches (capstan_helm_* metrics). */
  telemetry?: HelmTelemetry;
}

type HelmReleaseStep = Step<HelmReleaseObject, State>;

/** Specs that cannot work as written stall before anything is read. */
export function checkSpec(deps: StepDeps): HelmReleaseStep {
  return async (_ctx, obj) => {
    checkDurations(obj);
    const badPostRenderers = checkPostRenderers(obj.spec.postRenderers);
    if (badPostRenderers) {
      throw new StallingError(`spec.postRenderers: ${badPostRenderers}`, { reason: HelmReleaseReasons.InitFailed });
    }
    if ((obj.spec.postRenderers ?? []).length > 0 && !deps.kustomizeBinary) {
      throw new StallingError(
        "spec.postRenderers need the kustomize binary, which this helm-controller does not have (--kustomize-path)",
        { reason: HelmReleaseReasons.InitFailed },
      );
    }
    const drift = obj.spec.driftDetection;
    if (drift?.mode === "enabled" || drift?.mode === "warn") {
      try {
        compileIgnoreRules(drift.ignore);
      } catch (err) {
        throw new StallingError(`spec.driftDetection.${(err as Error).message}`, {
          reason: HelmReleaseReasons.InitFailed,
        });
      }
    }
  };
}

/** A scratch directory for this pass: values file, chart, kubeconfig, helm's HOME. */
export function makeWorkDir(deps: StepDeps): HelmReleaseStep {
  return async (_ctx, _obj, state) => {
    const dir = join(deps.workRoot, `hr-${randomBytes(6).toString("hex")}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    state.workDir = dir;
  };
}

export function checkDependencies(deps: StepDeps): HelmReleaseStep {
  return async (ctx, obj) => {
    await checkDependsOn(ctx.client, obj, {
      requeueAfterMs: deps.requeueDependencyMs,
      noCrossNamespaceRefs: deps.noCrossNamespaceRefs,
    });
  };
}

/** Puts the verified package of `pkg` at `dest` (chart cache or download) and counts where it came from. */
async function fetchInto(
  deps: StepDeps,
  ctx: ReconcileContext,
  pkg: Pick<ChartArtifact, "url" | "digest" | "revision">,
  dest: string,
): Promise<void> {
  const options = { maxBytes: deps.chartMaxBytes, timeoutMs: 60_000, signal: ctx.signal };
  await traced(ctx, "chart.fetch", async () => {
    deps.telemetry?.chart(await fetchPackage(pkg, dest, options, deps.chartCache));
  });
}

export function resolveSource(deps: StepDeps): HelmReleaseStep {
  return async (ctx, obj, state) => {
    state.chart = await resolveChart(ctx, obj, {
      fieldManager: deps.fieldManager,
      noCrossNamespaceRefs: deps.noCrossNamespaceRefs,
      requeueMs: deps.requeueDependencyMs,
      chartMaxBytes: deps.chartMaxBytes,
      oci: {
        fetch: async (pkg) => {
          const dest = join(need(state, "workDir"), "package.tgz");
          await fetchInto(deps, ctx, pkg, dest);
          return readFile(dest);
        },
        ...(deps.chartVersions ? { versions: deps.chartVersions } : {}),
      },
    });
  };
}

export const composeValuesStep: HelmReleaseStep = async (ctx, obj, state) => {
  try {
    const composed = await composeValues(
      ctx.client,
      obj.metadata.namespace ?? "default",
      obj.spec.valuesFrom ?? [],
      obj.spec.values,
    );
    state.values = { ...composed, digest: configDigest(composed.values) };
  } catch (err) {
    if (err instanceof ValuesError) {
      throw new ReconcileError(`could not compose values: ${err.message}`, { reason: HelmReleaseReasons.InitFailed });
    }
    throw err;
  }
};

export function pickTarget(deps: StepDeps): HelmReleaseStep {
  return async (_ctx, obj, state) => {
    state.target = await targetFor(deps.target, obj, need(state, "workDir"));
  };
}

export function readRelease(deps: StepDeps): HelmReleaseStep {
  return async (ctx, obj, state) => {
    const target = need(state, "target");
    const storage = new ReleaseStorage(
      target.client,
      releaseNameOf(obj),
      releaseNamespaceOf(obj),
      storageNamespaceOf(obj),
    );
    state.storage = storage;
    try {
      // A new release name, release namespace or storage namespace: the release stored under the old ones is
      // uninstalled first, as Flux does, and the new one installed.
      await uninstallPreviousTarget(deps, ctx, obj, state);
      state.releases = await storage.list();
    } catch (cause) {
      if (cause instanceof ReconcileError) throw cause;
      throw new ReconcileError(`failed to get last release revision: ${(cause as Error).message}`, {
        reason: HelmReleaseReasons.GetLastReleaseFailed,
        cause,
      });
    }
    obj.status ??= {};
    obj.status.storageNamespace = storage.storageNamespace;
  };
}

type ReleaseAction = "install" | "upgrade";

/** The CRD policy of an action: install defaults to Create (Skip with the deprecated skipCRDs), upgrade to Skip. */
function crdPolicyOf(obj: HelmReleaseObject, action: ReleaseAction): CrdPolicy {
  if (action === "install") return obj.spec.install?.crds ?? (obj.spec.install?.skipCRDs ? "Skip" : "Create");
  return obj.spec.upgrade?.crds ?? "Skip";
}

/** The chart's CRDs could not be read or applied: a failure of the install or upgrade, as in Flux. */
class CrdError extends Error {}

interface Remediation {
  retries: number;
  remediateLastFailure: boolean;
  ignoreTestFailures: boolean;
  strategy: "rollback" | "uninstall";
}

function remediationOf(obj: HelmReleaseObject, action: ReleaseAction): Remediation {
  const r = obj.spec[action]?.remediation;
  const retries = r?.retries ?? 0;
  return {
    retries,
    remediateLastFailure: r?.remediateLastFailure ?? retries > 0,
    ignoreTestFailures: r?.ignoreTestFailures ?? obj.spec.test?.ignoreFailures ?? false,
    strategy: (r && "strategy" in r ? r.strategy : undefined) ?? "rollback",
  };
}

function failuresOf(obj: HelmReleaseObject, action: ReleaseAction): number {
  return (action === "install" ? obj.status?.installFailures : obj.status?.upgradeFailures) ?? 0;
}

function exhausted(obj: HelmReleaseObject, action: ReleaseAction): boolean {
  const { retries } = remediationOf(obj, action);
  return retries >= 0 && failuresOf(obj, action) > retries;
}

/** The newest revision that was deployed successfully, other than `latest`: the rollback target. */
function previousGood(
  releases: readonly HelmReleaseRecord[],
  latest: HelmReleaseRecord,
): HelmReleaseRecord | undefined {
  return releases.find(
    (r) =>
      r.version < latest.version &&
      (r.info.status === ReleaseStatus.Superseded || r.info.status === ReleaseStatus.Deployed),
  );
}

/** Whether the deployed release is the chart version and values asked for. */
function inSync(latest: HelmReleaseRecord, chartVersion: string, digest: string): boolean {
  return (
    latest.info.status === ReleaseStatus.Deployed &&
    latest.chart.metadata.version === chartVersion &&
    configDigest(latest.config) === digest
  );
}

class Releaser {
  private readonly session: HelmSession;
  private readonly name: string;
  private readonly namespace: string;
  private readonly maxHistory: number;

  constructor(
    private readonly deps: StepDeps,
    private readonly ctx: ReconcileContext,
    private readonly obj: HelmReleaseObject,
    private readonly state: State,
    target: Target,
  ) {
    this.name = releaseNameOf(obj);
    this.namespace = releaseNamespaceOf(obj);
    this.maxHistory = obj.spec.maxHistory ?? 5;
    this.session = new HelmSession({
      binary: deps.helmBinary,
      workDir: need(state, "workDir"),
      access: target.access,
      namespace: this.namespace,
      ...(target.impersonateUser ? { impersonateUser: target.impersonateUser } : {}),
      redact: need(state, "values").secrets,
      signal: ctx.signal,
      ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
      ...(deps.kubeCacheDir && !obj.spec.kubeConfig ? { kubeCacheDir: deps.kubeCacheDir } : {}),
      span: (name, fn) => traced(ctx, name, fn),
    });
  }

  private get releases(): HelmReleaseRecord[] {
    return need(this.state, "releases");
  }

  async refresh(): Promise<HelmReleaseRecord | undefined> {
    this.state.releases = await need(this.state, "storage").list();
    return this.state.releases[0];
  }

  /** Runs a helm command of the release, its records checked out of spec.storageNamespace when that differs. */
  private helm(args: string[], timeoutMs: number): Promise<string> {
    return need(this.state, "storage").around(() => this.session.run(args, timeoutMs));
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    const chart = this.state.chart?.artifact.revision ?? "";
    this.ctx.events.event(this.obj, type, reason, message, {
      [HelmEventAnnotations.Revision]: chart,
      [HelmEventAnnotations.Token]: this.state.values?.digest ?? "",
    });
  }

  /**
   * The post-renderer plugin, written into the scratch directory: spec.commonMetadata, spec.postRenderers and Flux's
   * origin labels, so it runs for every install and upgrade.
   */
  private async postRenderer(): Promise<PostRendererFiles> {
    const { metadata, spec } = this.obj;
    const common = spec.commonMetadata;
    return writePostRenderer(need(this.state, "workDir"), spec.postRenderers ?? [], this.deps.kustomizeBinary, {
      ...(common ? { common } : {}),
      origin: originLabels(metadata.name, metadata.namespace ?? "default"),
      limits: this.deps.manifestLimits,
    });
  }

  /**
   * Puts the verified chart into the scratch directory (chart cache or download; a chart from an OCIRepository with
   * its version rewritten); writes the values file next to it.
   */
  private async prepare(): Promise<{ chartPath: string; valuesPath: string }> {
    const dir = need(this.state, "workDir");
    const chartPath = join(dir, "chart.tgz");
    const valuesPath = join(dir, "values.yaml");
    const artifact = need(this.state, "chart").artifact;
    try {
      if (artifact.content) {
        // Fetched, verified and rewritten by this pass's resolveSource.
        await writeFile(chartPath, artifact.content, { mode: 0o600 });
      } else if (artifact.oci) {
        const pkg = join(dir, "package.tgz");
        await fetchInto(this.deps, this.ctx, artifact, pkg);
        const mutated = mutateChart(await readFile(pkg), this.deps.chartMaxBytes, artifact.oci.revision);
        if (mutated.version !== artifact.revision) {
          throw new ReconcileError(
            `Could not load chart: package ${artifact.digest} states version ${mutated.chartVersion}, not ${artifact.oci.chartVersion}`,
            { reason: HelmReleaseReasons.ArtifactFailed },
          );
        }
        await writeFile(chartPath, mutated.content, { mode: 0o600 });
      } else {
        await fetchInto(this.deps, this.ctx, artifact, chartPath);
      }
    } catch (err) {
      if (err instanceof ChartFetchError) {
        throw new ReconcileError(err.message, { reason: HelmReleaseReasons.ArtifactFailed });
      }
      throw err;
    }
    await writeFile(valuesPath, JSON.stringify(need(this.state, "values").values), { mode: 0o600 });
    return { chartPath, valuesPath };
  }

  async run(): Promise<void> {
    const obj = this.obj;
    obj.status ??= {};
    const status = obj.status;
    const artifact = need(this.state, "chart").artifact;
    const digest = need(this.state, "values").digest;
    const generation = obj.metadata.generation ?? 0;
    // A new desired state (spec, chart or values) gets fresh failure counters, as in Flux.
    if (
      status.lastAttemptedGeneration !== generation ||
      status.lastAttemptedRevision !== artifact.revision ||
      status.lastAttemptedConfigDigest !== digest
    ) {
      status.installFailures = 0;
      status.upgradeFailures = 0;
      status.failures = 0;
    }
    if (shouldHandleResetRequest(obj)) {
      this.ctx.log.info("resetting failure counters: requested through annotation");
      status.installFailures = 0;
      status.upgradeFailures = 0;
      status.failures = 0;
    }
    const force = shouldHandleForceRequest(obj);
    status.lastAttemptedRevision = artifact.revision;
    status.lastAttemptedRevisionDigest = artifact.oci?.manifestDigest ?? artifact.digest;
    status.lastAttemptedConfigDigest = digest;
    status.lastAttemptedGeneration = generation;

    let latest = this.releases[0];
    if (latest && isPending(latest.info.status)) latest = await this.unlock(latest);
    // New post-renderers or common metadata change what is applied though chart and values did not: out of sync,
    // as in Flux.
    const postRenderersInSync =
      postRenderersDigest(obj.spec.postRenderers) === (status.observedPostRenderersDigest ?? "") &&
      commonMetadataDigest(obj.spec.commonMetadata) === (status.observedCommonMetadataDigest ?? "");
    if (
      latest &&
      latest.info.status !== ReleaseStatus.Uninstalled &&
      postRenderersInSync &&
      inSync(latest, artifact.revision, digest) &&
      !force
    ) {
      this.adopt(latest);
      await this.checkDrift(latest);
      return;
    }
    const fresh = !latest || latest.info.status === ReleaseStatus.Uninstalled;
    const onlyFailed =
      !fresh &&
      !this.releases.some(
        (r) => r.info.status === ReleaseStatus.Deployed || r.info.status === ReleaseStatus.Superseded,
      );
    const action: ReleaseAction = fresh || onlyFailed ? "install" : "upgrade";
    if (force) this.ctx.log.info({ action }, "forcing release: requested through annotation");
    if (exhausted(obj, action) && !force) {
      throw new StallingError(`Failed to ${action} after ${failuresOf(obj, action)} attempt(s)`, {
        reason: HelmReleaseReasons.RetriesExceeded,
        event: false,
      });
    }
    // A release that only ever failed to install cannot be upgraded by helm: it is uninstalled and installed anew.
    if (onlyFailed)
      await this.helm(
        uninstallArgs(this.name, {}, { timeoutMs: timeoutOf(obj, "uninstall") }),
        timeoutOf(obj, "uninstall"),
      );
    await this.attempt(action);
    // As Flux's atomic release, which looks at the release state again after each action: the release just made is
    // in sync, so its cluster state is checked for drift in the same pass (a hook or another controller may have
    // changed what helm applied).
    const released = this.releases[0];
    if (released?.info.status === ReleaseStatus.Deployed) await this.checkDrift(released);
  }

  private checkDrift(latest: HelmReleaseRecord): Promise<void> {
    return checkDrift(
      {
        ctx: this.ctx,
        obj: this.obj,
        client: need(this.state, "target").client,
        helmBinary: this.deps.helmBinary,
        event: (type, reason, message) => this.event(type, reason, message),
      },
      latest,
    );
  }

  /** A release left pending (a helm killed mid-action) blocks every action: roll it back or uninstall it. */
  private async unlock(latest: HelmReleaseRecord): Promise<HelmReleaseRecord | undefined> {
    this.ctx.log.info({ release: releaseId(latest), status: latest.info.status }, "release left pending: remediating");
    const good = previousGood(this.releases, latest);
    if (good) await this.rollbackTo(good, false);
    else
      await this.helm(
        uninstallArgs(this.name, {}, { timeoutMs: timeoutOf(this.obj, "uninstall") }),
        timeoutOf(this.obj, "uninstall"),
      );
    return this.refresh();
  }

  /** The deployed release is what the spec asks for (adopted from `helm install`, or released earlier). */
  private adopt(latest: HelmReleaseRecord): void {
    const released = this.obj.status?.conditions?.find((c) => c.type === HelmReleaseConditions.Released);
    if (released?.status === "True") return;
    const install = latest.version === 1;
    markTrue(
      this.obj,
      HelmReleaseConditions.Released,
      install ? HelmReleaseReasons.InstallSucceeded : HelmReleaseReasons.UpgradeSucceeded,
      `Helm ${install ? "install" : "upgrade"} succeeded for release ${releaseId(latest)} with chart ${chartId(latest)}`,
    );
    removeCondition(this.obj, HelmReleaseConditions.Remediated);
  }

  private async attempt(action: ReleaseAction): Promise<void> {
    const obj = this.obj;
    obj.status ??= {};
    const status = obj.status;
    status.lastAttemptedReleaseAction = action;
    const started = Date.now();
    let failure = await this.runAction(action);
    let testFailed = false;
    status.lastAttemptedReleaseActionDuration = `${((Date.now() - started) / 1000).toFixed(3)}s`;
    const latest = await this.refresh();
    const rel = latest ? `${releaseId(latest)} with chart ${chartId(latest)}` : `${this.namespace}/${this.name}`;
    const Action = action === "install" ? "install" : "upgrade";
    if (failure === undefined) {
      if (await this.succeeded(action, latest, rel)) return;
      testFailed = true;
      failure = "test failed";
    }
    // The attempt failed (or its tests did): count it, remediate as spec.<action>.remediation says, retry or stall.
    if (action === "install") status.installFailures = (status.installFailures ?? 0) + 1;
    else status.upgradeFailures = (status.upgradeFailures ?? 0) + 1;
    status.failures = (status.failures ?? 0) + 1;
    const reason = action === "install" ? HelmReleaseReasons.InstallFailed : HelmReleaseReasons.UpgradeFailed;
    const message = `Helm ${Action} failed for release ${rel}: ${failure}`;
    if (!testFailed) {
      markFalse(obj, HelmReleaseConditions.Released, reason, message);
      this.event("Warning", reason, message);
    }
    const rem = remediationOf(obj, action);
    const done = exhausted(obj, action);
    if (!done || rem.remediateLastFailure) await this.remediate(action, rem, latest);
    if (done) {
      throw new StallingError(`Failed to ${action} after ${failuresOf(obj, action)} attempt(s)`, {
        reason: HelmReleaseReasons.RetriesExceeded,
        event: false,
      });
    }
    throw new ReconcileError(message, { reason, event: false });
  }

  /** install.crds CreateReplace, upgrade.crds Create|CreateReplace: the chart's CRDs, applied before helm runs. */
  private async applyCrds(action: ReleaseAction, chartPath: string, timeoutMs: number): Promise<void> {
    const policy = crdPolicyOf(this.obj, action);
    if (policy === "Skip" || (action === "install" && policy === "Create")) return;
    const yaml = await this.session.run(showCrdsArgs(chartPath), 60_000, 32 * 1024 * 1024);
    try {
      const crds = crdObjects(yaml);
      if (crds.length === 0) return;
      const changed = await applyCrds(crds, policy, {
        client: need(this.state, "target").client,
        fieldManager: basename(this.deps.helmBinary),
        timeoutMs,
        signal: this.ctx.signal,
      });
      if (changed.length) this.ctx.log.info({ crds: changed, policy }, "applied CustomResourceDefinitions");
    } catch (err) {
      throw new CrdError((err as Error).message);
    }
  }

  /** Runs helm install or upgrade; the failure's message, or undefined when it succeeded. */
  private async runAction(action: ReleaseAction): Promise<string | undefined> {
    const obj = this.obj;
    const { chartPath, valuesPath } = await this.prepare();
    const timeoutMs = timeoutOf(obj, action);
    const postRenderer = await this.postRenderer();
    const opts = {
      timeoutMs,
      maxHistory: this.maxHistory,
      ...(this.deps.serverFieldValidation && !obj.spec.kubeConfig ? { serverValidates: true } : {}),
      postRenderer: postRenderer.name,
    };
    try {
      await this.applyCrds(action, chartPath, timeoutMs);
    } catch (err) {
      if (!(err instanceof HelmCommandError || err instanceof CrdError)) throw err;
      return `failed to apply CustomResourceDefinitions: ${err.message}`;
    }
    try {
      await this.helm(
        action === "install"
          ? installArgs(this.name, chartPath, valuesPath, obj.spec.install ?? {}, opts)
          : upgradeArgs(this.name, chartPath, valuesPath, obj.spec.upgrade ?? {}, opts),
        timeoutMs,
      );
      return undefined;
    } catch (err) {
      if (!(err instanceof HelmCommandError)) throw err;
      // Helm keeps a post-renderer's own words to itself; the runner left them in a file.
      const why = await postRenderFailure(postRenderer);
      if (!why) return err.message;
      return `${err.message}: ${cleanMessage(why, need(this.state, "workDir"), need(this.state, "values").secrets)}`;
    }
  }

  /** Records a successful action and runs the tests; false when the tests failed and that fails the release. */
  private async succeeded(action: ReleaseAction, latest: HelmReleaseRecord | undefined, rel: string): Promise<boolean> {
    const obj = this.obj;
    const status = obj.status ?? {};
    const Action = action === "install" ? "install" : "upgrade";
    const reason = action === "install" ? HelmReleaseReasons.InstallSucceeded : HelmReleaseReasons.UpgradeSucceeded;
    const message = `Helm ${Action} succeeded for release ${rel}`;
    markTrue(obj, HelmReleaseConditions.Released, reason, message);
    removeCondition(obj, HelmReleaseConditions.Remediated);
    this.event("Normal", reason, message);
    const prDigest = postRenderersDigest(obj.spec.postRenderers);
    if (prDigest) status.observedPostRenderersDigest = prDigest;
    else delete status.observedPostRenderersDigest;
    const cmDigest = commonMetadataDigest(obj.spec.commonMetadata);
    if (cmDigest) status.observedCommonMetadataDigest = cmDigest;
    else delete status.observedCommonMetadataDigest;
    if (obj.spec.test?.enable) {
      const tested = await this.test(latest);
      if (!tested && !remediationOf(obj, action).ignoreTestFailures) return false;
    } else {
      removeCondition(obj, HelmReleaseConditions.TestSuccess);
    }
    status.installFailures = 0;
    status.upgradeFailures = 0;
    status.failures = 0;
    return true;
  }

  private async test(latest: HelmReleaseRecord | undefined): Promise<boolean> {
    const obj = this.obj;
    const timeoutMs = timeoutOf(obj, "test");
    const rel = latest ? `${releaseId(latest)} with chart ${chartId(latest)}` : `${this.namespace}/${this.name}`;
    try {
      await this.helm(testArgs(this.name, obj.spec.test ?? {}, { timeoutMs }), timeoutMs);
    } catch (err) {
      if (!(err instanceof HelmCommandError)) throw err;
      await this.refresh();
      const message = `Helm test failed for release ${rel}: ${err.message}`;
      markFalse(obj, HelmReleaseConditions.TestSuccess, HelmReleaseReasons.TestFailed, message);
      this.event("Warning", HelmReleaseReasons.TestFailed, message);
      return false;
    }
    const after = await this.refresh();
    const hooks = after ? Object.keys(historyOf([after])[0]?.testHooks ?? {}).length : 0;
    const message = `Helm test succeeded for release ${rel}: ${hooks === 0 ? "no test hooks" : `${hooks} test hook(s) completed successfully`}`;
    markTrue(obj, HelmReleaseConditions.TestSuccess, HelmReleaseReasons.TestSucceeded, message);
    this.event("Normal", HelmReleaseReasons.TestSucceeded, message);
    return true;
  }

  private async remediate(
    action: ReleaseAction,
    rem: Remediation,
    latest: HelmReleaseRecord | undefined,
  ): Promise<void> {
    if (!latest) return;
    if (action === "upgrade" && rem.strategy === "rollback") {
      const good = previousGood(this.releases, latest);
      if (!good) {
        markFalse(
          this.obj,
          HelmReleaseConditions.Remediated,
          HelmReleaseReasons.MissingRollbackTarget,
          `no previous successful release of ${this.namespace}/${this.name} to roll back to`,
        );
        return;
      }
      await this.rollbackTo(good, true);
      return;
    }
    const timeoutMs = timeoutOf(this.obj, "uninstall");
    try {
      await this.helm(uninstallArgs(this.name, this.obj.spec.uninstall ?? {}, { timeoutMs }), timeoutMs);
    } catch (err) {
      if (!(err instanceof HelmCommandError)) throw err;
      const message = `Helm uninstall failed for release ${releaseId(latest)} with chart ${chartId(latest)}: ${err.message}`;
      markFalse(this.obj, HelmReleaseConditions.Remediated, HelmReleaseReasons.UninstallFailed, message);
      this.event("Warning", HelmReleaseReasons.UninstallFailed, message);
      return;
    }
    await this.refresh();
    const message = `Helm uninstall succeeded for release ${releaseId(latest)} with chart ${chartId(latest)}`;
    markTrue(this.obj, HelmReleaseConditions.Remediated, HelmReleaseReasons.UninstallSucceeded, message);
    this.event("Normal", HelmReleaseReasons.UninstallSucceeded, message);
  }

  private async rollbackTo(good: HelmReleaseRecord, record: boolean): Promise<void> {
    const timeoutMs = timeoutOf(this.obj, "rollback");
    try {
      await this.helm(
        rollbackArgs(this.name, good.version, this.obj.spec.rollback ?? {}, { timeoutMs, maxHistory: this.maxHistory }),
        timeoutMs,
      );
    } catch (err) {
      if (!(err instanceof HelmCommandError)) throw err;
      const message = `Helm rollback to previous release ${releaseId(good)} with chart ${chartId(good)} failed: ${err.message}`;
      if (record) markFalse(this.obj, HelmReleaseConditions.Remediated, HelmReleaseReasons.RollbackFailed, message);
      this.event("Warning", HelmReleaseReasons.RollbackFailed, message);
      if (!record) throw new ReconcileError(message, { reason: HelmReleaseReasons.RollbackFailed });
      return;
    }
    await this.refresh();
    const message = `Helm rollback to previous release ${releaseId(good)} with chart ${chartId(good)} succeeded`;
    if (record) markTrue(this.obj, HelmReleaseConditions.Remediated, HelmReleaseReasons.RollbackSucceeded, message);
    this.event("Normal", HelmReleaseReasons.RollbackSucceeded, message);
  }
}

export function release(deps: StepDeps): HelmReleaseStep {
  return async (ctx, obj, state) => {
    await new Releaser(deps, ctx, obj, state, need(state, "target")).run();
  };
}

/** The end of every pass: status.history from Helm's storage, and the scratch directory goes. */
export async function endOfPass(
  _ctx: ReconcileContext,
  obj: HelmReleaseObject,
  state: State,
  _outcome: StepsOutcome,
): Promise<void> {
  if (state.releases) {
    obj.status ??= {};
    obj.status.history = historyOf(state.releases);
  }
  if (state.workDir) await rm(state.workDir, { recursive: true, force: true });
}

/** The steps in order. */
export function helmReleaseSteps(deps: StepDeps): HelmReleaseStep[] {
  // Named for the reconcile trace (capstan_reconcile_step_duration_seconds{step}).
  return [
    namedStep("checkSpec", checkSpec(deps)),
    namedStep("makeWorkDir", makeWorkDir(deps)),
    namedStep("checkDependencies", checkDependencies(deps)),
    namedStep("resolveSource", resolveSource(deps)),
    namedStep("composeValues", composeValuesStep),
    namedStep("pickTarget", pickTarget(deps)),
    namedStep("readRelease", readRelease(deps)),
    namedStep("release", release(deps)),
  ];
}
