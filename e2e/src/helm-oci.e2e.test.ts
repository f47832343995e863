// End-to-end, Helm charts from an OCI registry: the real distribution registry (TLS, htpasswd) on loopback, a chart
// packaged with the real `helm package` and pushed with the real `helm push`, and source-controller and
// helm-controller started as processes with the args and RBAC the umbrella chart gives them, multi-tenancy on. One
// HelmRelease takes the chart through an OCIRepository (chartRef, Flux's recommended way), another through an OCI
// HelmRepository and the HelmChart it templates; pushing 1.1.0 upgrades both without touching either HelmRelease,
// and the real helm CLI sees the versions status reports.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { helmReleaseType } from "@capstan/api";
import { ensureCrds } from "@capstan/api/testing";
import { ensureBinaries } from "@capstan/cluster";
import {
  createTestNamespace,
  eventually,
  loadKubeConfig,
  type TestNamespace,
  testKubeconfigPath,
} from "@capstan/cluster/testing";
import { type Controllers, startControllers } from "@capstan/devenv/controllers";
import { helmPush, startRegistry, type TestRegistry } from "@capstan/gitserver";
import { KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
type HelmReleaseObject = KubeObject & {
  status?: {
    conditions?: Condition[];
    history?: { version: number; chartVersion: string; status: string }[];
    lastAttemptedRevision?: string;
    lastAttemptedRevisionDigest?: string;
  };
};

describe("Given a chart pushed to an OCI registry with helm push, and source-controller and helm-controller as the umbrella chart runs them", {
  timeout: 300_000,
}, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const binPath = inject("capstanBinPath");
  const kc = loadKubeConfig(kubeconfig);
  const admin = new KubeClient({ kubeconfigPath: kubeconfig });
  const fieldManager = "capstan-e2e";
  const cleanups: (() => Promise<unknown>)[] = [];
  const selector = { key: "capstan.dev/e2e-helm-oci", value: randomBytes(4).toString("hex") };
  const labels = { [selector.key]: selector.value };
  let system: TestNamespace;
  let tenant: TestNamespace;
  let controllers: Controllers;
  let registry: TestRegistry;
  let work: string;
  let helm: string;

  const helmCli = async (args: string[]) => {
    const { stdout } = await run(helm, [...args, "--kubeconfig", kubeconfig], {
      env: { PATH: "/usr/bin:/bin", HOME: work },
    });
    return stdout;
  };

  /** `helm package` then `helm push` to oci://<registry>/charts/web; resolves to the manifest digest. */
  async function publish(version: string): Promise<string> {
    const dir = join(work, `web-${version}`);
    await mkdir(join(dir, "src", "templates"), { recursive: true });
    await writeFile(
      join(dir, "src", "Chart.yaml"),
      `apiVersion: v2\nname: web\nversion: ${version}\nappVersion: "${version}"\n`,
    );
    await writeFile(join(dir, "src", "values.yaml"), "color: blue\n");
    await writeFile(
      join(dir, "src", "templates", "cm.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  color: {{ .Values.color | quote }}\n  chart: {{ .Chart.Version | quote }}\n",
    );
    const { stdout } = await run(helm, ["package", join(dir, "src"), "--destination", dir], {
      env: { PATH: "/usr/bin:/bin", HOME: work },
    });
    return helmPush({ helm, registry, chartFile: stdout.trim().split(": ").at(-1) ?? "", repository: "charts" });
  }

  const getRelease = (name: string) =>
    admin.get<HelmReleaseObject>({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      name,
      namespace: tenant.name,
    });
  const readyAt = (name: string, chartVersion: string) =>
    eventually(
      async () => {
        const hr = await getRelease(name);
        const ready = hr?.status?.conditions?.find((c) => c.type === "Ready");
        return ready?.status === "True" && hr?.status?.history?.[0]?.chartVersion === chartVersion && hr;
      },
      { timeoutMs: 120_000, what: `${name} Ready with chart ${chartVersion}` },
    );
  const apply = (obj: Record<string, unknown>) => admin.apply(obj as KubeObject, { fieldManager });
  /** Flux's chart version for a chart from an OCIRepository: the manifest digest's first 12 hex digits as metadata. */
  const withDigest = (version: string, digest: string) =>
    `${version}+${digest.slice("sha256:".length, "sha256:".length + 12)}`;

  beforeAll(async () => {
    helm = (await ensureBinaries()).bin.helm;
    work = await mkdtemp(join(tmpdir(), "capstan-e2e-helm-oci-"));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    await ensureCrds(kubeconfig);
    registry = await startRegistry({ binPath, tls: true, auth: true });
    cleanups.push(() => registry.close());
    system = await createTestNamespace(kc, "helmoci-system");
    tenant = await createTestNamespace(kc, "helmoci-tenant");
    cleanups.push(
      () => tenant.delete(),
      () => system.delete(),
    );
    const set = ["kustomize-controller.enabled=false", "notification-controller.enabled=false"];
    for (const c of ["source-controller", "helm-controller"]) {
      set.push(`${c}.extraArgs[0]=--watch-label-selector=${selector.key}=${selector.value}`);
    }
    controllers = await startControllers({
      kubeconfig,
      namespace: system.name,
      only: ["source-controller", "helm-controller"],
      set,
    });
    cleanups.push(() => controllers.stop());
    await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "tenant-edit", namespace: tenant.name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "ServiceAccount", name: "default", namespace: tenant.name }],
    });
    const secret = (name: string, type: string, stringData: Record<string, string>) =>
      admin.create({ apiVersion: "v1", kind: "Secret", type, metadata: { name, namespace: tenant.name }, stringData });
    await secret("registry-auth", "kubernetes.io/dockerconfigjson", {
      ".dockerconfigjson": registry.dockerConfigJson(),
    });
    await secret("registry-ca", "Opaque", { "ca.crt": registry.pki?.caCert.toString() ?? "" });
    for (const name of ["via-ocirepository", "via-helmrepository"]) {
      cleanups.push(() =>
        admin
          .delete({ apiVersion: helmReleaseType.apiVersion, kind: helmReleaseType.kind, name, namespace: tenant.name })
          .then(() => eventually(async () => (await getRelease(name)) === undefined, { timeoutMs: 60_000 })),
      );
    }
  }, 240_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    admin.close();
  }, 120_000);

  let d1 = "";

  it("should release it through an OCIRepository (chartRef) and through an OCI HelmRepository (chart template)", async () => {
    d1 = await publish("1.0.0");
    await apply({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "OCIRepository",
      metadata: { name: "web", namespace: tenant.name, labels },
      spec: {
        url: `oci://${registry.host}/charts/web`,
        // Polling every 2s stands in for a registry webhook.
        interval: "2s",
        ref: { semver: "1.x" },
        layerSelector: { mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", operation: "copy" },
        secretRef: { name: "registry-auth" },
        certSecretRef: { name: "registry-ca" },
      },
    });
    await apply({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "HelmRepository",
      metadata: { name: "charts", namespace: tenant.name, labels },
      spec: {
        type: "oci",
        url: `oci://${registry.host}/charts`,
        secretRef: { name: "registry-auth" },
        certSecretRef: { name: "registry-ca" },
      },
    });
    await apply({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      metadata: { name: "via-ocirepository", namespace: tenant.name, labels },
      spec: { interval: "10m", chartRef: { kind: "OCIRepository", name: "web" }, values: { color: "green" } },
    });
    await apply({
      apiVersion: helmReleaseType.apiVersion,
      kind: helmReleaseType.kind,
      metadata: { name: "via-helmrepository", namespace: tenant.name, labels },
      spec: {
        interval: "10m",
        chart: {
          metadata: { labels },
          spec: { chart: "web", version: "1.x", interval: "2s", sourceRef: { kind: "HelmRepository", name: "charts" } },
        },
      },
    });
    const viaOci = await readyAt("via-ocirepository", withDigest("1.0.0", d1));
    expect(viaOci.status).toMatchObject({
      lastAttemptedRevision: withDigest("1.0.0", d1),
      lastAttemptedRevisionDigest: d1,
    });
    await readyAt("via-helmrepository", "1.0.0");
    const cm = await admin.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "via-ocirepository",
      namespace: tenant.name,
    });
    expect(cm?.data).toEqual({ color: "green", chart: withDigest("1.0.0", d1) });
    const ls = JSON.parse(await helmCli(["ls", "-n", tenant.name, "-o", "json"])) as { name: string; chart: string }[];
    expect(ls.map((r) => `${r.name} ${r.chart}`).sort()).toEqual([
      "via-helmrepository web-1.0.0",
      `via-ocirepository web-${withDigest("1.0.0", d1)}`,
    ]);
  });

  it("should upgrade both when 1.1.0 is pushed, without a change to either HelmRelease", async () => {
    const d2 = await publish("1.1.0");
    const viaOci = await readyAt("via-ocirepository", withDigest("1.1.0", d2));
    expect(viaOci.status?.history?.map((h) => `${h.version} ${h.chartVersion} ${h.status}`)).toEqual([
      `2 ${withDigest("1.1.0", d2)} deployed`,
      `1 ${withDigest("1.0.0", d1)} superseded`,
    ]);
    expect(viaOci.status?.lastAttemptedRevisionDigest).toBe(d2);
    await readyAt("via-helmrepository", "1.1.0");
    expect(controllers.permissionRefusals()).toEqual([]);
  });
});
