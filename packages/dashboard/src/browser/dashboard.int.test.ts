// The dashboard in headless Chromium against the real control plane: toolkit objects and their status are written
// through the API (no controllers run here), users are ServiceAccounts with RBAC, and the page must follow.
import { mkdirSync } from "node:fs";
import type { KubeObject } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { kustomizationCount } from "../test/browser.js";
import {
  ensureHelmReleaseCrd,
  fluxSource,
  helmRelease,
  ksEvent,
  kustomization,
  progressingEvent,
  rev,
  setKsStatus,
  twoTeams,
  type User,
} from "../test/harness.js";
import { browserSuite, poll } from "../test/suite.js";

let teamA: string;
let teamB: string;
let operator: User;
let viewer: User;

const ui = browserSuite(async (tc) => {
  ({ teamA, teamB, operator, viewer } = await twoTeams(tc, "ui"));
  await tc.client.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: teamA },
    data: {},
  });
  await tc.client.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "creds", namespace: teamA },
    stringData: { password: "hunter2-do-not-show" },
  });
  await kustomization(tc.client, teamA, "frontend", undefined, {
    inventory: [
      { id: `${teamA}_settings__ConfigMap`, v: "v1" },
      { id: `${teamA}_gone__ConfigMap`, v: "v1" },
    ],
  });
  await kustomization(
    tc.client,
    teamA,
    "backend",
    {
      status: "False",
      reason: "ReconciliationFailed",
      message: 'Deployment/backend dry-run failed: spec.replicas: Invalid value: "two"',
    },
    { dependsOn: ["frontend"] },
  );
  await ksEvent(tc.client, teamA, "backend", "ReconciliationFailed", "Deployment/backend dry-run failed");
  await kustomization(tc.client, teamB, "secret-app");
  await tc.client.create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "kustomize-controller", namespace: teamA, labels: { "app.kubernetes.io/part-of": "flux" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "kc" } },
      template: {
        metadata: { labels: { app: "kc" } },
        spec: { containers: [{ name: "manager", image: "ghcr.io/capstan-gitops/kustomize-controller:0.1.0" }] },
      },
    },
  });
  await ensureHelmReleaseCrd(tc.client);
  await helmRelease(tc.client, teamA, "podinfo", "podinfo", "6.7.1");
});

const ksRef = (namespace: string, name: string) => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  name,
  namespace,
});

describe("Given the dashboard in a browser", () => {
  it("should show the Kustomizations' states on the overview, the failing one first with the apiserver's message", async () => {
    const page = await ui.pageAs(operator.token);
    await poll(() => kustomizationCount(page, "ready")).toBe("2");
    expect(await kustomizationCount(page, "failing")).toBe("1");
    const attention = page.getByRole("list", { name: "Failing and stalled objects" }).getByRole("listitem");
    await poll(() => attention.count()).toBe(1);
    const first = attention.first();
    expect(await first.getByRole("link").textContent()).toBe(`${teamA}/backend`);
    expect(await first.textContent()).toContain('spec.replicas: Invalid value: "two"');
    const controller = page
      .getByRole("table", { name: "Controllers" })
      .getByRole("row", { name: new RegExp(`${teamA}/kustomize-controller`) });
    await poll(() => controller.textContent()).toContain("ghcr.io/capstan-gitops/kustomize-controller:0.1.0");
    const events = page.getByRole("list", { name: "Events" });
    await poll(() => events.textContent()).toContain("Deployment/backend dry-run failed");
    if (process.env.CAPSTAN_DASHBOARD_SCREENSHOTS) {
      mkdirSync(process.env.CAPSTAN_DASHBOARD_SCREENSHOTS, { recursive: true });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: `${process.env.CAPSTAN_DASHBOARD_SCREENSHOTS}/overview.png` });
    }
  });

  it("should show a status change made through the API without a reload", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamA}/frontend`);
    await page.getByRole("heading", { level: 1, name: `Kustomization ${teamA}/frontend` }).waitFor();
    await page.evaluate(() => {
      (globalThis as unknown as { marker: number }).marker = 42;
    });
    await setKsStatus(
      ui.tc.client,
      teamA,
      "frontend",
      {
        status: "False",
        reason: "HealthCheckFailed",
        message: "timeout waiting for: [Deployment/web status: 'InProgress']",
      },
      { revision: rev(2), inventory: [{ id: `${teamA}_settings__ConfigMap`, v: "v1" }] },
    );
    await page.getByTestId("status-message").filter({ hasText: "timeout waiting for" }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole("heading", { level: 1 }).locator("..").textContent()).toContain("Failing");
    // The same document: a reload would have dropped the marker.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    await setKsStatus(
      ui.tc.client,
      teamA,
      "frontend",
      { status: "True", reason: "ReconciliationSucceeded", message: "Applied revision: main@sha1:2" },
      { revision: rev(2), inventory: [{ id: `${teamA}_settings__ConfigMap`, v: "v1" }] },
    );
    await page.getByTestId("applied-revision").filter({ hasText: "main@0000000" }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("applied-revision").locator("code").getAttribute("title")).toBe(rev(2));
  });

  it("should show the inventory grouped by kind with each object's live health", async () => {
    await setKsStatus(
      ui.tc.client,
      teamA,
      "frontend",
      { status: "True", reason: "ReconciliationSucceeded", message: "ok" },
      {
        inventory: [
          { id: `${teamA}_settings__ConfigMap`, v: "v1" },
          { id: `${teamA}_gone__ConfigMap`, v: "v1" },
          { id: `${teamA}_creds__Secret`, v: "v1" },
        ],
      },
    );
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamA}/frontend`);
    const group = page.getByRole("list", { name: "ConfigMap objects" });
    await poll(() => group.getByRole("listitem").count()).toBe(2);
    expect(await group.locator(`[data-id="${teamA}_settings__ConfigMap"]`).textContent()).toContain("Current");
    expect(await group.locator(`[data-id="${teamA}_gone__ConfigMap"]`).textContent()).toContain("NotFound");
  });

  it("should show an inventory object's live YAML, a Secret's keys but never its values", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamA}/frontend`);
    await page.getByRole("button", { name: `YAML of Secret ${teamA}/creds` }).click();
    const secret = page.getByRole("list", { name: "Secret objects" }).getByTestId("live-yaml");
    await poll(() => secret.textContent()).toContain("password: (hidden)");
    const html = await page.content();
    expect(html).not.toContain("hunter2");
    expect(html).not.toContain(Buffer.from("hunter2-do-not-show").toString("base64"));
    await page.getByRole("button", { name: `YAML of ConfigMap ${teamA}/settings` }).click();
    const cm = page.getByRole("list", { name: "ConfigMap objects" }).getByTestId("live-yaml");
    await poll(() => cm.textContent()).toContain("name: settings");
  });

  it("should suspend from the UI: spec.suspend is set in the cluster and the page offers Resume", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamB}/secret-app`);
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByRole("status").filter({ hasText: "suspended" }).waitFor();
    const ks = await ui.tc.client.get<KubeObject & { spec: { suspend?: boolean } }>(ksRef(teamB, "secret-app"));
    expect(ks?.spec.suspend).toBe(true);
    await page.getByRole("button", { name: "Resume" }).waitFor();
    expect(await page.getByTestId("suspended").textContent()).toBe("yes");
  });

  it("should show the apiserver's refusal to a user whose RBAC forbids patch", async () => {
    const page = await ui.pageAs(viewer.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamA}/backend`);
    await page.getByRole("button", { name: "Suspend" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Refused" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain(`User "${viewer.user}" cannot patch resource "kustomizations"`);
    const ks = await ui.tc.client.get<KubeObject & { spec: { suspend?: boolean } }>(ksRef(teamA, "backend"));
    expect(ks?.spec.suspend).toBeUndefined();
  });

  it("should not show a user the applications of a namespace they may not list", async () => {
    const page = await ui.pageAs(viewer.token);
    await page.goto(`${ui.dash.url}/#/apps`);
    const table = page.getByRole("table", { name: "Applications" });
    await poll(() => table.getByRole("link").allTextContents()).toEqual(
      expect.arrayContaining(["backend", "frontend"]),
    );
    const names = await table.getByRole("row").allTextContents();
    expect(names.join("\n")).not.toContain("secret-app");
    expect(await page.getByRole("combobox", { name: "Namespace" }).locator("option").allTextContents()).not.toContain(
      teamB,
    );
    // The operator, who may list both namespaces, sees it.
    const op = await ui.pageAs(operator.token);
    await op.goto(`${ui.dash.url}/#/apps`);
    await op.getByRole("link", { name: "secret-app" }).waitFor();
  });

  it("should draw the dependsOn graph, each Kustomization a link to its page", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamA}/backend`);
    const graph = page.getByRole("figure", { name: "Dependency graph" });
    // attached, not visible: a straight edge has a bounding box of height 0.
    await graph.locator(`[data-edge="${teamA}/frontend->${teamA}/backend"]`).waitFor({ state: "attached" });
    expect(await graph.getByRole("link").count()).toBe(2);
    await graph.getByRole("link", { name: `${teamA}/frontend: Ready` }).click();
    await page.getByRole("heading", { level: 1, name: `Kustomization ${teamA}/frontend` }).waitFor();
  });

  it("should list drift corrections from the controller's Events: what was changed by hand and reverted, when", async () => {
    const t0 = Date.now() - 120_000;
    await progressingEvent(
      ui.tc.client,
      teamA,
      "frontend",
      rev(7),
      `ConfigMap/${teamA}/settings created`,
      new Date(t0),
    );
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps/${teamA}/frontend`);
    await page.getByText("No object changed by hand and reverted").waitFor();
    // The same revision applied again with a change: someone had edited the ConfigMap.
    const corrected = `ConfigMap/${teamA}/settings configured`;
    await progressingEvent(ui.tc.client, teamA, "frontend", rev(7), corrected, new Date(t0 + 60_000));
    const drift = page.getByRole("list", { name: "Drift corrections" });
    await poll(() => drift.textContent()).toContain(corrected);
    expect(await drift.locator("time").first().getAttribute("datetime")).toBe(
      new Date(t0 + 60_000).toISOString().replace(/\.\d+Z$/, "Z"),
    );
  });

  it("should list a HelmRelease beside the Kustomizations, with its released chart version, and open its page", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps`);
    const table = page.getByRole("table", { name: "Applications" });
    await poll(() => table.getByRole("link").allTextContents()).toContain("podinfo");
    await table.getByRole("link", { name: "podinfo" }).click();
    await page.getByRole("heading", { level: 1, name: `HelmRelease ${teamA}/podinfo` }).waitFor();
    expect(await page.getByTestId("applied-revision").textContent()).toBe("6.7.1");
    await helmRelease(ui.tc.client, teamA, "podinfo", "podinfo", "6.8.0", {
      status: "False",
      reason: "UpgradeFailed",
      message: "Helm upgrade failed: timed out waiting for the condition",
    });
    await page.getByTestId("status-message").filter({ hasText: "Helm upgrade failed" }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("attempted-revision").textContent()).toBe("6.8.0");
    await helmRelease(ui.tc.client, teamA, "podinfo", "podinfo", "6.8.0");
  });

  it("should list HelmRepositories, HelmCharts and OCIRepositories on the Sources page and follow them live", async () => {
    const sha = (c: string) => `sha256:${c.repeat(64)}`;
    await fluxSource(
      ui.tc.client,
      "HelmRepository",
      teamA,
      "charts",
      { url: "https://robot:chart-s3cret@charts.example.com/stable" },
      { revision: sha("3"), digest: sha("4"), size: 20_480 },
    );
    await fluxSource(
      ui.tc.client,
      "HelmChart",
      teamA,
      `${teamA}-podinfo`,
      { chart: "podinfo", version: "6.x", sourceRef: { kind: "HelmRepository", name: "charts" } },
      { revision: "6.7.1", digest: sha("5"), size: 14_000 },
      { status: "True", reason: "ChartPullSucceeded", message: "pulled 'podinfo' chart with version '6.7.1'" },
    );
    await fluxSource(
      ui.tc.client,
      "OCIRepository",
      teamA,
      "manifests",
      { url: "oci://ghcr.io/acme/manifests", ref: { tag: "latest" } },
      { revision: `latest@${sha("6")}`, digest: sha("7"), size: 2_048 },
    );
    // In a namespace the viewer may not list: never sent to them.
    await fluxSource(ui.tc.client, "OCIRepository", teamB, "hidden", { url: "oci://ghcr.io/acme/hidden" }, undefined);

    const page = await ui.pageAs(viewer.token);
    await page.goto(`${ui.dash.url}/#/sources`);
    const charts = page.getByRole("table", { name: "Helm charts" });
    const chartRow = charts.getByRole("row", { name: new RegExp(`${teamA}/${teamA}-podinfo`) });
    await poll(() => chartRow.textContent()).toContain("6.7.1");
    const chartText = await chartRow.textContent();
    expect(chartText).toContain("podinfo");
    expect(chartText).toContain("from HelmRepository charts");
    expect(chartText).toContain("6.x");
    expect(chartText).toContain("sha256:555555555555");
    expect(chartText).toContain("14 KiB");
    expect(chartText).toContain("ChartPullSucceeded");
    const repoRow = page
      .getByRole("table", { name: "Helm repositories" })
      .getByRole("row", { name: new RegExp(`${teamA}/charts`) });
    await poll(() => repoRow.textContent()).toContain("https://charts.example.com/stable");
    expect(await repoRow.textContent()).not.toContain("chart-s3cret");
    expect(await repoRow.textContent()).toContain("20 KiB");
    const oci = page.getByRole("table", { name: "OCI repositories" });
    const ociRow = oci.getByRole("row", { name: new RegExp(`${teamA}/manifests`) });
    await poll(() => ociRow.textContent()).toContain("oci://ghcr.io/acme/manifests");
    expect(await ociRow.textContent()).toContain("tag:latest");
    expect(await ociRow.locator("code.revision").first().getAttribute("title")).toBe(`latest@${sha("6")}`);
    expect(await oci.textContent()).not.toContain("hidden");

    // Live: a failed pull and a new OCI artifact appear on the open page, no reload.
    await page.evaluate(() => {
      (globalThis as unknown as { marker: number }).marker = 7;
    });
    await fluxSource(
      ui.tc.client,
      "HelmChart",
      teamA,
      `${teamA}-podinfo`,
      { chart: "podinfo", version: "6.x", sourceRef: { kind: "HelmRepository", name: "charts" } },
      { revision: "6.7.1", digest: sha("5"), size: 14_000 },
      { status: "False", reason: "ChartPullFailed", message: "chart 'podinfo' version '6.x' not found" },
    );
    await fluxSource(
      ui.tc.client,
      "OCIRepository",
      teamA,
      "manifests",
      { url: "oci://ghcr.io/acme/manifests", ref: { tag: "latest" } },
      { revision: `latest@${sha("8")}`, digest: sha("9"), size: 4_096 },
    );
    await poll(() => chartRow.textContent()).toContain("chart 'podinfo' version '6.x' not found");
    expect(await chartRow.textContent()).toContain("ChartPullFailed");
    expect(await chartRow.textContent()).toContain("Failing");
    await poll(() => ociRow.locator("code.revision").first().getAttribute("title")).toBe(`latest@${sha("8")}`);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(7);

    // A source's own page: the artifact in full.
    await chartRow.getByRole("link", { name: `${teamA}/${teamA}-podinfo` }).click();
    await page.getByRole("heading", { level: 1, name: `HelmChart ${teamA}/${teamA}-podinfo` }).waitFor();
    const facts = page.getByRole("region", { name: "Artifact" });
    await poll(() => facts.textContent()).toContain("https://charts.example.com/stable");
    expect(await facts.textContent()).toContain(sha("5"));
    expect(await facts.textContent()).toContain("14000 bytes");
  });

  it("should show a HelmRelease's chart, version, release history and the HelmChart it comes from", async () => {
    await fluxSource(
      ui.tc.client,
      "HelmChart",
      teamA,
      `${teamA}-podinfo`,
      { chart: "podinfo", version: "6.x", sourceRef: { kind: "HelmRepository", name: "charts" } },
      { revision: "6.8.0", digest: `sha256:${"5".repeat(64)}`, size: 14_000 },
      { status: "True", reason: "ChartPullSucceeded", message: "pulled 'podinfo' chart with version '6.8.0'" },
    );
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/helmreleases/${teamA}/podinfo`);
    await page.getByRole("heading", { level: 1, name: `HelmRelease ${teamA}/podinfo` }).waitFor();
    const facts = page.getByRole("region", { name: "Source" });
    await poll(() => page.getByTestId("source-link").textContent()).toContain(`HelmChart ${teamA}/${teamA}-podinfo`);
    expect(await facts.textContent()).toContain("podinfo");
    expect(await page.getByTestId("applied-revision").textContent()).toMatch(/^6\.(7\.1|8\.0)$/);
    const releases = page.getByRole("table", { name: "Releases" });
    await poll(() => releases.getByRole("row").count()).toBe(2);
    const first = await releases.getByRole("row").nth(1).textContent();
    expect(first).toContain("deployed");
    expect(first).toMatch(/podinfo-6\.(7\.1|8\.0)/);
    await page.getByTestId("source-link").getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: `HelmChart ${teamA}/${teamA}-podinfo` }).waitFor();
  });

  it("should keep favourites in this browser: still starred after a reload, and a filter for them", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps`);
    const star = () => page.getByRole("button", { name: `Favourite ${teamA}/frontend` });
    await star().click();
    await poll(() => star().getAttribute("aria-pressed")).toBe("true");
    await page.reload();
    await poll(() => star().getAttribute("aria-pressed")).toBe("true");
    await page.getByRole("checkbox", { name: "Favourites only" }).check();
    const table = page.getByRole("table", { name: "Applications" });
    await poll(() => table.getByRole("link").allTextContents()).toEqual(["frontend"]);
    await star().click();
    await poll(() => table.getByRole("link").allTextContents()).toEqual([]);
  });

  it("should filter and sort the applications list", async () => {
    const page = await ui.pageAs(operator.token);
    await page.goto(`${ui.dash.url}/#/apps`);
    const table = page.getByRole("table", { name: "Applications" });
    await page.getByRole("combobox", { name: "State" }).selectOption("failing");
    await poll(() => table.getByRole("link").allTextContents()).toEqual(["backend"]);
    await page.getByRole("combobox", { name: "State" }).selectOption("");
    await page.getByRole("searchbox", { name: "Search" }).fill("front");
    await poll(() => table.getByRole("link").allTextContents()).toEqual(["frontend"]);
    await page.getByRole("searchbox", { name: "Search" }).fill("");
    await page.getByRole("button", { name: "Name", exact: true }).click();
    await poll(() => table.getByRole("columnheader", { name: "Name", exact: true }).getAttribute("aria-sort")).toBe(
      "ascending",
    );
    expect(await table.getByRole("link").allTextContents()).toEqual(["backend", "frontend", "podinfo", "secret-app"]);
  });
});
