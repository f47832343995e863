// HelmChart from an OCI HelmRepository inside one source-controller against the real kube-apiserver and the real CNCF
// distribution registry (TLS, htpasswd): charts packaged by `helm package` and pushed by the real `helm push`; the
// stored charts are checked with the real helm CLI (`helm template`).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { helmPush, orasPush, registryCredentials, startRegistry, type TestRegistry } from "@capstan/gitserver";
import { getCondition, type KubeObject, type WithConditions } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";

const run = promisify(execFile);
const chartMaxSize = 64 * 1024;
const binPath = inject("capstanBinPath");
let h: GitRepositoryHarness;
let registry: TestRegistry;
let helm: string;

type Source = WithConditions & {
  status?: {
    artifact?: { revision: string; url: string; path: string; digest: string; size?: number };
    observedChartName?: string;
    observedValuesFiles?: string[];
  };
};

/** Packages a chart directory with the real `helm package`; returns the .tgz path. */
async function packageChart(name: string, version: string, extra: Record<string, string | Buffer> = {}) {
  const dir = join(h.work, `chart-${name}-${version}-${randomBytes(3).toString("hex")}`);
  const files: Record<string, string | Buffer> = {
    "Chart.yaml": `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: "${version}"\n`,
    "values.yaml": "message: default\nreplicas: 1\n",
    "values-prod.yaml": "replicas: 3\n",
    "templates/cm.yaml":
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  message: {{ .Values.message | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  version: {{ .Chart.Version | quote }}\n",
    ...extra,
  };
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(dir, "src", p, ".."), { recursive: true });
    await writeFile(join(dir, "src", p), content);
  }
  const { stdout } = await run(helm, ["package", join(dir, "src"), "--destination", dir], {
    env: { PATH: "/usr/bin:/bin", HOME: dir },
  });
  return stdout.trim().split(": ").at(-1) ?? "";
}

async function publish(name: string, version: string, extra: Record<string, string | Buffer> = {}) {
  const file = await packageChart(name, version, extra);
  const digest = await helmPush({ helm, registry, chartFile: file, repository: "charts" });
  return { file, digest, bytes: await readFile(file) };
}

const ref = (kind: string, name: string) => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind,
  namespace: h.ns.name,
  name,
});

async function create(kind: "HelmRepository" | "HelmChart", name: string, spec: Record<string, unknown>) {
  await h.client.create({ ...ref(kind, name), metadata: { name, namespace: h.ns.name }, spec });
}

const ociRepo = (name: string, extra: Record<string, unknown> = {}) =>
  create("HelmRepository", name, {
    type: "oci",
    url: `oci://${registry.host}/charts`,
    secretRef: { name: "registry-auth" },
    certSecretRef: { name: "registry-ca" },
    ...extra,
  });

const chart = (name: string, repo: string, extra: Record<string, unknown> = {}) =>
  create("HelmChart", name, {
    chart: "demo",
    sourceRef: { kind: "HelmRepository", name: repo },
    interval: "10m",
    ...extra,
  });

function waitFor(name: string, pred: (o: Source) => boolean, what: string): Promise<Source> {
  return eventually(
    async () => {
      const o = await h.client.get<Source>(ref("HelmChart", name));
      return o && pred(o) ? o : undefined;
    },
    { timeoutMs: 30_000, what: `HelmChart ${name} ${what}` },
  );
}

const readyAt = (name: string, revision: string) =>
  waitFor(
    name,
    (o) => getCondition(o, "Ready")?.status === "True" && o.status?.artifact?.revision === revision,
    `Ready at ${revision}`,
  );

const failing = (name: string, reason: string) =>
  waitFor(
    name,
    (o) => getCondition(o, "Ready")?.status === "False" && getCondition(o, "Ready")?.reason === reason,
    `Ready=False ${reason}`,
  );

async function template(tgz: Buffer): Promise<string> {
  const path = join(h.work, `t-${randomBytes(4).toString("hex")}.tgz`);
  await writeFile(path, tgz);
  const { stdout } = await run(helm, ["template", "rel", path], { env: { PATH: "/usr/bin:/bin", HOME: h.work } });
  return stdout;
}

beforeAll(async () => {
  helm = (await ensureBinaries()).bin.helm;
  registry = await startRegistry({ binPath, tls: true, auth: true });
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "helmoci",
    secrets: {
      "registry-ca": { "ca.crt": registry.pki?.caCert.toString() ?? "" },
      "registry-basic": { username: registryCredentials.username, password: registryCredentials.password },
      "registry-wrong": { username: registryCredentials.username, password: "wrong-oci-pass-do-not-leak" },
    },
    extraArgs: [`--helm-chart-max-size=${chartMaxSize}`],
  });
  await h.client.create({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name: "registry-auth", namespace: h.ns.name },
    stringData: { ".dockerconfigjson": registry.dockerConfigJson() },
  });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await registry?.close();
});

describe("HelmChart from an OCI HelmRepository", () => {
  it("Given a version range / should pull the highest matching tag as is, and move when 1.1.0 is pushed", async () => {
    const first = await publish("demo", "1.0.0");
    await publish("demo", "2.0.0-rc.1"); // a prerelease: outside a range that names none
    await ociRepo("oci");
    await chart("ranged", "oci", { version: "1.x" });
    const obj = await readyAt("ranged", "1.0.0");
    expect(getCondition(obj, "Ready")).toMatchObject({
      reason: "ChartPullSucceeded",
      message: "pulled 'demo' chart with version '1.0.0'",
    });
    expect(obj.status?.artifact?.path).toBe(`helmchart/${h.ns.name}/ranged/demo-1.0.0.tgz`);
    expect(obj.status?.observedChartName).toBe("demo");
    // Pulled as is: the artifact is the very package `helm push` uploaded.
    const bytes = await h.download(obj.status?.artifact?.url ?? "");
    expect(sha256(bytes)).toBe(sha256(first.bytes));
    expect(obj.status?.artifact?.digest).toBe(sha256(first.bytes));
    // The repository itself stays a static object, as in Flux: no conditions, no artifact.
    const repo = await h.client.get<Source>(ref("HelmRepository", "oci"));
    expect(repo?.status?.conditions ?? []).toEqual([]);
    expect(repo?.status?.artifact).toBeUndefined();

    await publish("demo", "1.1.0");
    await h.client.mergePatch(ref("HelmChart", "ranged"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "after-1.1.0" } },
    });
    const moved = await readyAt("ranged", "1.1.0");
    expect(await template(await h.download(moved.status?.artifact?.url ?? ""))).toContain('version: "1.1.0"');
  });

  it("Given an exact version, username/password credentials and values files / should package merged values as <version>+<generation>", async () => {
    await ociRepo("oci-basic", { secretRef: { name: "registry-basic" } });
    await chart("prod", "oci-basic", { version: "1.0.0", valuesFiles: ["values.yaml", "values-prod.yaml"] });
    const obj = await readyAt("prod", "1.0.0+1");
    expect(getCondition(obj, "Ready")).toMatchObject({
      reason: "ChartPackageSucceeded",
      message: "packaged 'demo' chart with version '1.0.0+1' and merged values files [values.yaml values-prod.yaml]",
    });
    expect(obj.status?.observedValuesFiles).toEqual(["values.yaml", "values-prod.yaml"]);
    const out = await template(await h.download(obj.status?.artifact?.url ?? ""));
    expect(out).toContain('replicas: "3"');
    expect(out).toContain('message: "default"');
    expect(out).toContain('version: "1.0.0+1"');
  });

  it("Given wrong credentials / should fail with AuthenticationFailed and never show the password", async () => {
    await ociRepo("oci-wrong", { secretRef: { name: "registry-wrong" } });
    await chart("wrong", "oci-wrong", { version: "1.x" });
    const obj = await failing("wrong", "AuthenticationFailed");
    expect(getCondition(obj, "FetchFailed")?.message).toContain("failed to login to OCI registry");
    expect(obj.status?.artifact).toBeUndefined();
    expect(JSON.stringify(obj)).not.toContain("wrong-oci-pass-do-not-leak");
    const { items: events } = await h.client.list<KubeObject>(
      { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
      { namespace: h.ns.name },
    );
    expect(JSON.stringify(events)).not.toContain("wrong-oci-pass-do-not-leak");
  });

  it("Given a range no tag matches / should report InvalidChartReference, keep retrying, and pick the tag once pushed", async () => {
    await ociRepo("oci-later");
    await chart("later", "oci-later", { version: ">=3.0.0" });
    const obj = await failing("later", "InvalidChartReference");
    expect(getCondition(obj, "FetchFailed")?.message).toContain(
      "could not locate a version matching provided version string >=3.0.0",
    );
    expect(getCondition(obj, "Stalled")).toBeUndefined();
    await publish("demo", "3.0.0");
    await readyAt("later", "3.0.0");
  });

  it("Given a chart over --helm-chart-max-size, or an artifact that is not a chart / should fail with ChartPullError", async () => {
    await publish("big", "1.0.0", { "files/blob.bin": randomBytes(2 * chartMaxSize) });
    await ociRepo("oci-bad");
    await create("HelmChart", "big", {
      chart: "big",
      sourceRef: { kind: "HelmRepository", name: "oci-bad" },
      interval: "10m",
    });
    const big = await waitFor(
      "big",
      (o) => getCondition(o, "Ready")?.reason === "ChartPullError",
      "Ready=False ChartPullError",
    );
    expect(getCondition(big, "FetchFailed")?.message).toMatch(/over the limit of 65536 bytes/);
    expect(big.status?.artifact).toBeUndefined();

    await orasPush({
      binPath,
      registry,
      reference: "charts/manifests:1.0.0",
      artifactType: "application/vnd.cncf.flux.config.v1+json",
      files: [
        {
          name: "m.tar.gz",
          content: Buffer.from("not a chart"),
          mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip",
        },
      ],
    });
    await create("HelmChart", "notchart", {
      chart: "manifests",
      sourceRef: { kind: "HelmRepository", name: "oci-bad" },
      interval: "10m",
    });
    const notChart = await waitFor(
      "notchart",
      (o) => getCondition(o, "Ready")?.reason === "ChartPullError",
      "Ready=False ChartPullError",
    );
    expect(getCondition(notChart, "FetchFailed")?.message).toContain(
      "manifest does not contain a layer with mediatype application/vnd.cncf.helm.chart.content.v1.tar+gzip",
    );
  });
});
