// HelmRepository and HelmChart inside one source-controller against the real kube-apiserver: a real Helm repository
// on loopback (charts packaged by `helm package`, index by `helm repo index`), a real git server, real storage behind
// the artifact server. The packaged charts are checked with the real helm CLI (`helm template`).
import { execFile } from "node:child_process";
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { createTestPki, freePort, type HelmRepoServer, startHelmRepoServer, type TestRepo } from "@capstan/gitserver";
import { getCondition, type KubeObject, type WithConditions } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";
import type { HelmChartObject } from "./state.js";

const run = promisify(execFile);
const password = "helm-repo-pass-do-not-leak";
const chartMaxSize = 64 * 1024;
let h: GitRepositoryHarness;
let helmRepo: HelmRepoServer;
let git: TestRepo;
let helm: string;

const helmSpec = (extra: Record<string, unknown> = {}) => ({ url: helmRepo.url, interval: "10m", ...extra });

beforeAll(async () => {
  helm = (await ensureBinaries()).bin.helm;
  helmRepo = await startHelmRepoServer({ basicAuth: { username: "capstan", password }, helm });
  await helmRepo.publish({ name: "myapp", version: "1.0.0", values: "message: one\nreplicas: 1\n" });
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "helmsrc",
    secrets: {
      "helm-auth": { username: "capstan", password },
      "helm-bad-auth": { username: "capstan", password: "wrong-helm-pass-do-not-leak" },
    },
    extraArgs: [`--helm-chart-max-size=${chartMaxSize}`],
  });
  git = await h.repo("charts.git");
  await git.commit({
    "charts/myapp/Chart.yaml":
      "apiVersion: v2\nname: myapp\nversion: 0.1.0\ndependencies:\n  - name: common\n    version: 0.x\n    repository: file://../common\n",
    "charts/myapp/values.yaml": "message: default\nreplicas: 1\nresources:\n  cpu: 100m\n",
    "charts/myapp/templates/cm.yaml":
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  message: {{ .Values.message | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  cpu: {{ .Values.resources.cpu | quote }}\n",
    "charts/common/Chart.yaml": "apiVersion: v2\nname: common\nversion: 0.2.0\ntype: library\n",
    "charts/common/templates/_helpers.tpl": '{{- define "common.name" -}}common{{- end -}}\n',
    "envs/prod.yaml": "replicas: 3\nresources:\n  memory: 1Gi\n",
  });
  await h.create("charts", { url: `${h.git.url}/charts.git`, ref: { branch: "main" } });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await helmRepo?.close();
});

async function create(kind: "HelmRepository" | "HelmChart", name: string, spec: Record<string, unknown>) {
  await h.client.create({
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind,
    metadata: { name, namespace: h.ns.name },
    spec,
  });
}

const ref = (kind: string, name: string) => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind,
  namespace: h.ns.name,
  name,
});

type Source = WithConditions & {
  status?: {
    artifact?: { revision: string; url: string; path: string; digest: string; size?: number };
    url?: string;
    observedValuesFiles?: string[];
  };
};

function waitFor(kind: string, name: string, pred: (o: Source) => boolean, what: string): Promise<Source> {
  return eventually(
    async () => {
      const o = await h.client.get<Source>(ref(kind, name));
      return o && pred(o) ? o : undefined;
    },
    { timeoutMs: 30_000, what: `${kind} ${name} ${what}` },
  );
}

const readyAt = (kind: string, name: string, revision: string) =>
  waitFor(
    kind,
    name,
    (o) => getCondition(o, "Ready")?.status === "True" && o.status?.artifact?.revision === revision,
    `Ready at ${revision}`,
  );

const failing = (kind: string, name: string, reason: string) =>
  waitFor(
    kind,
    name,
    (o) => getCondition(o, "Ready")?.status === "False" && getCondition(o, "Ready")?.reason === reason,
    `Ready=False ${reason}`,
  );

async function template(tgz: Buffer, file: string, extra: string[] = []): Promise<string> {
  const path = join(h.work, file);
  await writeFile(path, tgz);
  const { stdout } = await run(helm, ["template", "rel", path, ...extra], {
    env: { ...process.env, HELM_CONFIG_HOME: join(h.work, "hc"), HELM_CACHE_HOME: join(h.work, "hk") },
  });
  return stdout;
}

describe("HelmRepository", () => {
  it("Given an HTTP repository with basic auth / should store the index as the artifact, revision = digest of index.yaml", async () => {
    await create("HelmRepository", "repo", helmSpec({ secretRef: { name: "helm-auth" } }));
    const served = await readFile(join(helmRepo.dir, "index.yaml"));
    const obj = await readyAt("HelmRepository", "repo", sha256(served));
    const hex = sha256(served).slice("sha256:".length);
    expect(obj.status?.artifact?.path).toBe(`helmrepository/${h.ns.name}/repo/index-${hex}.yaml`);
    expect(getCondition(obj, "Ready")?.message).toBe(`stored artifact: revision '${sha256(served)}'`);
    expect(getCondition(obj, "ArtifactInStorage")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(obj.status?.url).toBe(`http://127.0.0.1:${h.artifacts.port}/helmrepository/${h.ns.name}/repo/index.yaml`);
    const bytes = await h.download(obj.status?.artifact?.url ?? "");
    expect(sha256(bytes)).toBe(obj.status?.artifact?.digest);
    const index = JSON.parse(bytes.toString("utf8")) as { entries: Record<string, { version: string }[]> };
    expect(index.entries.myapp?.map((v) => v.version)).toEqual(["1.0.0"]);
    // The stable URL serves the same index.
    expect(await h.download(obj.status?.url ?? "")).toEqual(bytes);
  });

  it("Given wrong credentials / should fail with FetchFailed and never show the password", async () => {
    await create("HelmRepository", "bad-auth", helmSpec({ secretRef: { name: "helm-bad-auth" } }));
    const obj = await failing("HelmRepository", "bad-auth", "Failed");
    expect(getCondition(obj, "FetchFailed")?.message).toContain("401");
    expect(JSON.stringify(obj)).not.toContain("wrong-helm-pass-do-not-leak");
    expect(obj.status?.artifact).toBeUndefined();
  });

  it("Given an unreachable repository / should report FetchFailed and store nothing", async () => {
    const port = await freePort();
    await create("HelmRepository", "unreachable", {
      url: `http://127.0.0.1:${port}/charts`,
      interval: "10m",
      timeout: "5s",
    });
    const obj = await failing("HelmRepository", "unreachable", "Failed");
    expect(getCondition(obj, "FetchFailed")).toMatchObject({ status: "True", reason: "Failed" });
    expect(getCondition(obj, "FetchFailed")?.message).toMatch(/^failed to fetch Helm repository index: .*ECONNREFUSED/);
    await expect(access(join(h.storage.root, "helmrepository", h.ns.name, "unreachable"))).rejects.toThrow();
  });

  it("Given type oci / should leave it static, as Flux does (no status, not reconciled)", async () => {
    await create("HelmRepository", "oci", { url: "oci://127.0.0.1:1/charts", type: "oci", interval: "10m" });
    await h.requestReconcile("charts", "oci-check"); // a later pass of the same manager
    const obj = await h.client.get<Source>(ref("HelmRepository", "oci"));
    expect(obj?.status?.artifact).toBeUndefined();
    expect(getCondition(obj as Source, "Ready")).toBeUndefined();
  });
});

describe("HelmChart from a HelmRepository", () => {
  it("Given a version range / should pull the highest match as is, and move when 1.1.0 is published", async () => {
    await create("HelmChart", "ranged", {
      chart: "myapp",
      version: "1.x",
      sourceRef: { kind: "HelmRepository", name: "repo" },
      interval: "10m",
    });
    const obj = await readyAt("HelmChart", "ranged", "1.0.0");
    expect(getCondition(obj, "Ready")).toMatchObject({
      reason: "ChartPullSucceeded",
      message: "pulled 'myapp' chart with version '1.0.0'",
    });
    expect(obj.status?.artifact?.path).toBe(`helmchart/${h.ns.name}/ranged/myapp-1.0.0.tgz`);
    const pulled = await h.download(obj.status?.artifact?.url ?? "");
    expect(pulled).toEqual(await readFile(join(helmRepo.dir, "myapp-1.0.0.tgz")));

    await helmRepo.publish({ name: "myapp", version: "1.1.0", values: "message: two\n" });
    await helmRepo.publish({ name: "myapp", version: "2.0.0", values: "message: three\n" });
    await h.client.mergePatch(ref("HelmRepository", "repo"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "publish-1.1.0" } },
    });
    const moved = await readyAt("HelmChart", "ranged", "1.1.0");
    expect(await template(await h.download(moved.status?.artifact?.url ?? ""), "ranged.tgz")).toContain(
      'message: "two"',
    );
    const { items: events } = await h.client.list<
      KubeObject & { reason: string; message: string; involvedObject: { name: string } }
    >({ group: "", version: "v1", kind: "Event", plural: "events", namespaced: true }, { namespace: h.ns.name });
    expect(
      events.some(
        (e) => e.involvedObject.name === "ranged" && e.reason === "ChartPullSucceeded" && e.message.includes("'1.1.0'"),
      ),
    ).toBe(true);
  });

  it("Given values files / should package the chart with merged values and version <version>+<generation>", async () => {
    await helmRepo.publish({
      name: "withenv",
      version: "0.3.0",
      values: "message: base\nreplicas: 1\n",
      files: { "values-prod.yaml": "replicas: 5\n" },
    });
    await h.client.mergePatch(ref("HelmRepository", "repo"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "publish-withenv" } },
    });
    await create("HelmChart", "withenv", {
      chart: "withenv",
      sourceRef: { kind: "HelmRepository", name: "repo" },
      valuesFiles: ["values.yaml", "values-prod.yaml", "missing.yaml"],
      ignoreMissingValuesFiles: true,
      interval: "10m",
    });
    const obj = await readyAt("HelmChart", "withenv", "0.3.0+1");
    expect(getCondition(obj, "Ready")).toMatchObject({
      reason: "ChartPackageSucceeded",
      message: "packaged 'withenv' chart with version '0.3.0+1' and merged values files [values.yaml values-prod.yaml]",
    });
    expect(obj.status?.observedValuesFiles).toEqual(["values.yaml", "values-prod.yaml"]);
    const out = await template(await h.download(obj.status?.artifact?.url ?? ""), "withenv.tgz");
    expect(out).toContain('message: "base"');

    // A second reconcile takes the cached-chart short cut; it still reports the files the artifact was built from.
    await h.client.mergePatch(ref("HelmChart", "withenv"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "again" } },
    });
    const again = await waitFor(
      "HelmChart",
      "withenv",
      (o) => (o.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt === "again",
      "handled the request",
    );
    expect(getCondition(again, "Ready")?.message).toBe(
      "packaged 'withenv' chart with version '0.3.0+1' and merged values files [values.yaml values-prod.yaml]",
    );
    expect(again.status?.artifact?.digest).toBe(obj.status?.artifact?.digest);
  });

  it("Given a range nothing matches / should stall with InvalidChartReference and store nothing", async () => {
    await create("HelmChart", "nomatch", {
      chart: "myapp",
      version: ">=5.0.0",
      sourceRef: { kind: "HelmRepository", name: "repo" },
      interval: "10m",
    });
    const obj = await failing("HelmChart", "nomatch", "InvalidChartReference");
    expect(getCondition(obj, "Stalled")?.status).toBe("True");
    expect(getCondition(obj, "FetchFailed")?.message).toBe(
      "invalid chart reference: failed to get chart version for remote reference: no 'myapp' chart with version matching '>=5.0.0' found",
    );
    await expect(access(join(h.storage.root, "helmchart", h.ns.name, "nomatch"))).rejects.toThrow();
  });

  it("Given a chart over --helm-chart-max-size, or a tarball that is not a chart / should fail with ChartPullError", async () => {
    // Random bytes do not compress: the package stays over the cap.
    const big = Buffer.from(Array.from({ length: 3 * chartMaxSize }, () => Math.floor(Math.random() * 256))).toString(
      "base64",
    );
    await helmRepo.publish({ name: "huge", version: "1.0.0", files: { "blob.txt": big } });
    await helmRepo.placeFile("bad/notachart-1.0.0.tgz", Buffer.from("this is not a gzip'd tar"));
    await helmRepo.addRawEntries([{ name: "notachart", version: "1.0.0", file: "bad/notachart-1.0.0.tgz" }]);
    await h.client.mergePatch(ref("HelmRepository", "repo"), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "publish-bad" } },
    });
    await create("HelmChart", "huge", {
      chart: "huge",
      sourceRef: { kind: "HelmRepository", name: "repo" },
      interval: "10m",
    });
    await create("HelmChart", "notachart", {
      chart: "notachart",
      sourceRef: { kind: "HelmRepository", name: "repo" },
      interval: "10m",
    });
    const huge = await failing("HelmChart", "huge", "ChartPullError");
    expect(getCondition(huge, "FetchFailed")?.message).toContain(`exceeds the maximum size of ${chartMaxSize} bytes`);
    const bad = await failing("HelmChart", "notachart", "ChartPullError");
    expect(getCondition(bad, "FetchFailed")?.message).toContain("downloaded file is not a valid chart");
    for (const name of ["huge", "notachart"]) {
      await expect(access(join(h.storage.root, "helmchart", h.ns.name, name))).rejects.toThrow();
    }
    expect(JSON.stringify([huge, bad])).not.toContain(password);
  });
});

describe("HelmChart from a GitRepository", () => {
  it("Given strategy Revision and values files / should package the chart with its file:// dependency, merged values and <version>+<commit>.<generation>", async () => {
    const head = (await git.git(["rev-parse", "HEAD"])).trim();
    await h.readyAt("charts", `main@sha1:${head}`);
    await create("HelmChart", "fromgit", {
      chart: "./charts/myapp",
      sourceRef: { kind: "GitRepository", name: "charts" },
      reconcileStrategy: "Revision",
      interval: "10m",
    });
    await create("HelmChart", "fromgit-prod", {
      chart: "charts/myapp",
      sourceRef: { kind: "GitRepository", name: "charts" },
      reconcileStrategy: "Revision",
      valuesFiles: ["charts/myapp/values.yaml", "envs/prod.yaml"],
      interval: "10m",
    });
    const plain = await readyAt("HelmChart", "fromgit", `0.1.0+${head.slice(0, 12)}`);
    expect(getCondition(plain, "Ready")?.reason).toBe("ChartPackageSucceeded");
    const prod = await readyAt("HelmChart", "fromgit-prod", `0.1.0+${head.slice(0, 12)}.1`);
    expect(prod.status?.observedValuesFiles).toEqual(["charts/myapp/values.yaml", "envs/prod.yaml"]);
    const rendered = await template(await h.download(prod.status?.artifact?.url ?? ""), "prod.tgz");
    expect(rendered).toContain('replicas: "3"');
    expect(rendered).toContain('cpu: "100m"');
    const dir = await h.unpack(await h.download(prod.status?.artifact?.url ?? ""), "prod-unpacked");
    expect(await readFile(join(dir, "myapp", "Chart.yaml"), "utf8")).toContain(`version: 0.1.0+${head.slice(0, 12)}.1`);
    expect(await readFile(join(dir, "myapp", "charts", "common", "Chart.yaml"), "utf8")).toContain("name: common");
    const chartInfo = await run(helm, ["show", "chart", join(h.work, "prod.tgz")]);
    expect(chartInfo.stdout).toContain(`version: 0.1.0+${head.slice(0, 12)}.1`);

    // A new commit is a new revision: the chart follows it (strategy Revision).
    const next = await git.commit({ "envs/prod.yaml": "replicas: 4\n" });
    void next;
    const head2 = (await git.git(["rev-parse", "HEAD"])).trim();
    await h.requestReconcile("charts", "next-commit");
    const moved = await readyAt("HelmChart", "fromgit-prod", `0.1.0+${head2.slice(0, 12)}.1`);
    expect(await template(await h.download(moved.status?.artifact?.url ?? ""), "prod2.tgz")).toContain('replicas: "4"');
  });

  it("Given paths that climb out of the source / should stall with a clear reason and store nothing", async () => {
    await create("HelmChart", "escape", {
      chart: "../../etc",
      sourceRef: { kind: "GitRepository", name: "charts" },
      interval: "10m",
    });
    await create("HelmChart", "escape-values", {
      chart: "charts/myapp",
      sourceRef: { kind: "GitRepository", name: "charts" },
      valuesFiles: ["charts/../../../secrets.yaml"],
      interval: "10m",
    });
    await create("HelmChart", "no-chart", {
      chart: "envs",
      sourceRef: { kind: "GitRepository", name: "charts" },
      interval: "10m",
    });
    const escaped = await failing("HelmChart", "escape", "InvalidChartReference");
    expect(getCondition(escaped, "FetchFailed")?.message).toBe(
      "invalid chart reference: path '../../etc' is outside the source: it must stay inside the source artifact",
    );
    expect(getCondition(escaped, "Stalled")?.status).toBe("True");
    const values = await failing("HelmChart", "escape-values", "ValuesFilesError");
    expect(getCondition(values, "BuildFailed")?.status).toBe("True");
    expect(getCondition(values, "FetchFailed")).toBeUndefined();
    const noChart = await failing("HelmChart", "no-chart", "InvalidChartReference");
    expect(getCondition(noChart, "FetchFailed")?.message).toContain("no chart found at path 'envs'");
    for (const name of ["escape", "escape-values", "no-chart"]) {
      await expect(access(join(h.storage.root, "helmchart", h.ns.name, name))).rejects.toThrow();
    }
  });

  it("Given a missing values file without ignoreMissingValuesFiles / should fail with ValuesFilesError", async () => {
    await create("HelmChart", "missing-values", {
      chart: "charts/myapp",
      sourceRef: { kind: "GitRepository", name: "charts" },
      valuesFiles: ["envs/staging.yaml"],
      interval: "10m",
    });
    const obj = (await failing("HelmChart", "missing-values", "ValuesFilesError")) as HelmChartObject;
    expect(getCondition(obj, "BuildFailed")?.message).toBe(
      "values files merge error: no values file found at path 'envs/staging.yaml'",
    );
  });
});

describe("HelmRepository transport", () => {
  const servers: HelmRepoServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it("Given an HTTPS repository demanding a client certificate / should connect with certSecretRef's CA and key pair", async () => {
    const pki = await createTestPki();
    const tls = await startHelmRepoServer({
      helm,
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireClientCert: true },
    });
    servers.push(tls);
    await tls.publish({ name: "secure", version: "0.1.0" });
    await h.client.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "helm-tls", namespace: h.ns.name },
      stringData: {
        "ca.crt": pki.caCert.toString(),
        "tls.crt": pki.clientCert.toString(),
        "tls.key": pki.clientKey.toString(),
      },
    });
    await h.client.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "helm-ca-only", namespace: h.ns.name },
      stringData: { "ca.crt": pki.caCert.toString() },
    });
    await create("HelmRepository", "mtls", { url: tls.url, interval: "10m", certSecretRef: { name: "helm-tls" } });
    await create("HelmRepository", "no-client-cert", {
      url: tls.url,
      interval: "10m",
      certSecretRef: { name: "helm-ca-only" },
    });
    await create("HelmRepository", "no-ca", { url: tls.url, interval: "10m" });
    const served = await readFile(join(tls.dir, "index.yaml"));
    await readyAt("HelmRepository", "mtls", sha256(served));
    await create("HelmChart", "secure", {
      chart: "secure",
      sourceRef: { kind: "HelmRepository", name: "mtls" },
      interval: "10m",
    });
    await readyAt("HelmChart", "secure", "0.1.0");
    const noClient = await failing("HelmRepository", "no-client-cert", "Failed");
    expect(getCondition(noClient, "FetchFailed")?.message).toContain("403");
    const noCa = await failing("HelmRepository", "no-ca", "Failed");
    expect(getCondition(noCa, "FetchFailed")?.message).toMatch(/certificate|self-signed|SELF_SIGNED|UNABLE_TO_VERIFY/i);
    expect(JSON.stringify([noClient, noCa])).not.toContain(pki.clientKey.toString().split("\n")[1] ?? "-----");
  });

  it("Given chart URLs on another host / should send the credentials there only with passCredentials", async () => {
    const other = await startHelmRepoServer({ helm, basicAuth: { username: "capstan", password }, absoluteUrls: true });
    servers.push(other);
    await other.publish({ name: "elsewhere", version: "1.0.0" });
    // The repository is addressed as localhost; the index names 127.0.0.1: another host to Helm's rule.
    const url = other.url.replace("127.0.0.1", "localhost");
    await create("HelmRepository", "strict", { url, interval: "10m", secretRef: { name: "helm-auth" } });
    await create("HelmRepository", "passing", {
      url,
      interval: "10m",
      secretRef: { name: "helm-auth" },
      passCredentials: true,
    });
    for (const repo of ["strict", "passing"]) {
      await create("HelmChart", `elsewhere-${repo}`, {
        chart: "elsewhere",
        sourceRef: { kind: "HelmRepository", name: repo },
        interval: "10m",
      });
    }
    await readyAt("HelmChart", "elsewhere-passing", "1.0.0");
    const strict = await failing("HelmChart", "elsewhere-strict", "ChartPullError");
    expect(getCondition(strict, "FetchFailed")?.message).toContain("401");
    expect(JSON.stringify(strict)).not.toContain(password);
  });

  it("Given a repository that accepts connections and never answers / should time out after spec.timeout", async () => {
    const hung = await startHelmRepoServer({ helm });
    servers.push(hung);
    hung.setStalled(true);
    await create("HelmRepository", "hung", { url: hung.url, interval: "10m", timeout: "2s" });
    const obj = await failing("HelmRepository", "hung", "Failed");
    expect(getCondition(obj, "FetchFailed")?.message).toMatch(
      /^failed to fetch Helm repository index: timeout after 2s/,
    );
  });
});
