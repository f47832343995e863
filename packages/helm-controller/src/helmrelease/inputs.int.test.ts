// What a HelmRelease reads besides its chart, and bad input: valuesFrom composed as Flux does, a missing valuesFrom
// Secret and a chart that does not render (clear conditions, nothing released), Secret values kept out of status and
// Events, and a release first installed with `helm install` adopted rather than duplicated.
import { HelmReleaseConditions, HelmReleaseReasons } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { secretType } from "@capstan/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { conditionOf, demoChart, fileScenario, type PublishedChart } from "../testing/harness.js";

const s = fileScenario("helm-inputs");
const chartRef = (name: string) => ({ chartRef: { kind: "HelmChart", name } });
let chart: PublishedChart;

async function releaseSecrets(name: string) {
  const { items } = await s.h.client.list(secretType, {
    namespace: s.ns.name,
    labelSelector: `owner=helm,name=${name}`,
  });
  return items;
}

async function helmValues(name: string): Promise<Record<string, unknown>> {
  const { stdout } = await s.h.runHelm(["get", "values", name, "-n", s.ns.name, "-o", "json"]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

const failing = (name: string, reasonOf: string) =>
  eventually(
    async () => {
      const hr = await s.h.getHelmRelease(name);
      const c = conditionOf(hr, reasonOf);
      return c?.status === "False" && hr;
    },
    { timeoutMs: 60_000, what: `${name} ${reasonOf} False` },
  );

beforeAll(async () => {
  chart = await s.h.chart(
    demoChart("1.0.0", {
      "templates/guard.yaml":
        '{{- if .Values.failWith }}{{ fail (printf "refused: %s" .Values.failWith) }}{{- end }}\n',
    }),
  );
  await s.h.publish("shared", chart);
  const broken = await s.h.chart({
    ...demoChart("2.0.0"),
    "templates/broken.yaml":
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: {{ required "imageTag is required" .Values.imageTag }}\n',
  });
  await s.h.publish("broken", broken);
});

describe("Given valuesFrom ConfigMaps and spec.values", () => {
  it("should merge them in order, set targetPath values typed as --set does, and let spec.values win", async () => {
    await s.h.client.apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "base", namespace: s.ns.name },
        data: { "values.yaml": "message: from-cm\nextra:\n  a: 1\n" },
      },
      { fieldManager: "test" },
    );
    await s.h.client.apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "replicas", namespace: s.ns.name },
        data: { count: "2" },
      },
      { fieldManager: "test" },
    );
    await s.h.helmRelease("composed", {
      ...chartRef("shared"),
      valuesFrom: [
        { kind: "ConfigMap", name: "base" },
        { kind: "ConfigMap", name: "replicas", valuesKey: "count", targetPath: "replicaCount" },
        { kind: "Secret", name: "absent", optional: true },
      ],
      values: { message: "inline", extra: { b: 2 } },
    });
    await eventually(async () => conditionOf(await s.h.getHelmRelease("composed"), "Ready")?.status === "True", {
      timeoutMs: 60_000,
      what: "composed Ready",
    });
    expect(await helmValues("composed")).toEqual({ message: "inline", replicaCount: 2, extra: { a: 1, b: 2 } });
  });
});

describe("Given bad input", () => {
  it("should report a missing valuesFrom Secret (InitFailed) and release nothing", async () => {
    await s.h.helmRelease("nosecret", { ...chartRef("shared"), valuesFrom: [{ kind: "Secret", name: "missing" }] });
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("nosecret");
        return conditionOf(got, "Ready")?.status === "False" && got;
      },
      { timeoutMs: 60_000, what: "nosecret not Ready" },
    );
    expect(conditionOf(hr, "Ready")).toMatchObject({
      reason: HelmReleaseReasons.InitFailed,
      message: `could not compose values: could not find Secret '${s.ns.name}/missing'`,
    });
    expect(await releaseSecrets("nosecret")).toEqual([]);
  });

  it("should report a chart that does not render (InstallFailed, then RetriesExceeded) and release nothing", async () => {
    await s.h.helmRelease("broken", { ...chartRef("broken") });
    const hr = await failing("broken", HelmReleaseConditions.Released);
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.reason).toBe(HelmReleaseReasons.InstallFailed);
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.message).toContain("imageTag is required");
    await eventually(
      async () =>
        conditionOf(await s.h.getHelmRelease("broken"), "Stalled")?.reason === HelmReleaseReasons.RetriesExceeded,
      {
        what: "broken stalled",
      },
    );
    expect(await releaseSecrets("broken")).toEqual([]);
    expect(
      await s.h.client.get({ apiVersion: "apps/v1", kind: "Deployment", name: "broken", namespace: s.ns.name }),
    ).toBeUndefined();
  });

  it("should never show a valuesFrom Secret's values in status or Events, even when the chart's error quotes them", async () => {
    const secret = "hunter2-Very-Secret-Value";
    await s.h.client.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "creds", namespace: s.ns.name },
        stringData: { "values.yaml": `failWith: ${secret}\n` },
      },
      { fieldManager: "test" },
    );
    await s.h.helmRelease("leaky", { ...chartRef("shared"), valuesFrom: [{ kind: "Secret", name: "creds" }] });
    const hr = await failing("leaky", HelmReleaseConditions.Released);
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.message).toContain("refused: ***");
    expect(JSON.stringify(hr.status)).not.toContain(secret);
    const events = await s.h.client.list(
      { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
      { namespace: s.ns.name },
    );
    expect(events.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(events.items)).not.toContain(secret);
  });
});

describe("Given a release first installed with `helm install`", () => {
  it("should adopt it: same values and chart, no new revision", async () => {
    await s.h.runHelm([
      "install",
      "adopted",
      chart.file,
      "-n",
      s.ns.name,
      "--set",
      "message=by-hand",
      "--wait=watcher",
      "--timeout",
      "60s",
    ]);
    await s.h.helmRelease("adopted", { ...chartRef("shared"), values: { message: "by-hand" } });
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("adopted");
        return conditionOf(got, "Ready")?.status === "True" && got;
      },
      { timeoutMs: 60_000, what: "adopted Ready" },
    );
    expect(hr.status?.history?.map((h) => `${h.version} ${h.status}`)).toEqual(["1 deployed"]);
    expect(conditionOf(hr, HelmReleaseConditions.Released)?.reason).toBe(HelmReleaseReasons.InstallSucceeded);
    expect((await releaseSecrets("adopted")).length).toBe(1);
  });
});

describe("Given a HelmRelease with spec.serviceAccountName", () => {
  it("should release as that account: refused while it has no rights, released once it has", async () => {
    await s.h.client.apply(
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: s.ns.name } },
      { fieldManager: "test" },
    );
    await s.h.helmRelease("tenant", {
      ...chartRef("shared"),
      serviceAccountName: "deployer",
      values: { message: "t" },
    });
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("tenant");
        return conditionOf(got, "Ready")?.status === "False" && got;
      },
      { timeoutMs: 60_000, what: "tenant refused" },
    );
    expect(conditionOf(hr, "Ready")?.reason).toBe(HelmReleaseReasons.GetLastReleaseFailed);
    expect(conditionOf(hr, "Ready")?.message).toContain(`system:serviceaccount:${s.ns.name}:deployer`);
    expect(await releaseSecrets("tenant")).toEqual([]);
    await s.h.client.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "deployer-admin", namespace: s.ns.name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: s.ns.name }],
      },
      { fieldManager: "test" },
    );
    await eventually(async () => conditionOf(await s.h.getHelmRelease("tenant"), "Ready")?.status === "True", {
      timeoutMs: 90_000,
      what: "tenant Ready once its account may release",
    });
    expect((await releaseSecrets("tenant")).length).toBe(1);
  });
});

describe("Given spec.test.enable", () => {
  it("should run the chart's test hooks after the install and record them (TestSuccess, history testHooks)", async () => {
    const tested = await s.h.chart(
      demoChart("3.0.0", {
        "templates/test.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
data:
  checked: "yes"
`,
      }),
    );
    await s.h.publish("tested", tested);
    await s.h.helmRelease("tested", { ...chartRef("tested"), test: { enable: true } });
    const hr = await eventually(
      async () => {
        const got = await s.h.getHelmRelease("tested");
        return (
          conditionOf(got, "Ready")?.status === "True" && conditionOf(got, HelmReleaseConditions.TestSuccess) && got
        );
      },
      { timeoutMs: 60_000, what: "tested Ready with TestSuccess" },
    );
    expect(conditionOf(hr, HelmReleaseConditions.TestSuccess)).toMatchObject({
      status: "True",
      reason: HelmReleaseReasons.TestSucceeded,
    });
    expect(hr.status?.history?.[0]?.testHooks).toEqual({
      "tested-test": expect.objectContaining({ phase: "Succeeded" }),
    });
  });
});
