// End-to-end: the dashboard in headless Chromium, with source-controller and kustomize-controller as processes (args
// from their rendered charts) and a real git server. What a newcomer does: open the overview and see the apps go
// Ready, push a commit and see the new revision without a reload, push a broken manifest and see the failing app
// first with the apiserver's message, change an applied object by hand and see the controller's correction.
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { type Dashboard, startDashboard } from "@capstan/dashboard";
import { type Browser, buildApp, launchChromium, type Page } from "@capstan/dashboard/testing";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

interface KustomizationStatus {
  lastAppliedRevision?: string;
  conditions?: { type: string; status: string; message?: string }[];
}

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  greeting: ${value}\n`;
const service = (port: number) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: { app: web }\n  ports:\n    - port: ${port}\n`;
const kustomization = (resources: string[]) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}`).join("\n")}\n`;

describe("Given the dashboard beside the real controllers and a git server", { timeout: 240_000 }, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;
  let app: { dir: string; remove(): void };
  let browser: Browser;
  let dash: Dashboard;
  let page: Page;

  beforeAll(async () => {
    [env, app, browser] = await Promise.all([
      startGitOpsEnv({ kubeconfig, prefix: "e2e-dash", only: ["source-controller", "kustomize-controller"] }),
      buildApp(),
      launchChromium(),
    ]);
    await env.repo.commit({
      "apps/web/kustomization.yaml": kustomization(["settings.yaml", "service.yaml"]),
      "apps/web/settings.yaml": configMap("web-settings", "hello"),
      "apps/web/service.yaml": service(80),
      "apps/db/kustomization.yaml": kustomization(["settings.yaml"]),
      "apps/db/settings.yaml": configMap("db-settings", "hello"),
    });
    // Polling every 2s stands in for a push webhook (the notification scenario covers the Receiver).
    await env.gitRepository("app", { interval: "2s" });
    for (const name of ["web", "db"]) {
      await env.kustomization(name, { path: `./apps/${name}`, targetNamespace: env.namespace });
    }
    // --insecure-local on loopback, as ./dev demo serves it: login and RBAC have their own browser tests.
    dash = await startDashboard({
      client: env.client,
      insecureLocal: true,
      namespace: env.namespace,
      staticDir: app.dir,
    });
    page = await (await browser.newContext()).newPage();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    app?.remove();
    await env?.close();
  }, 120_000);

  const ks = () =>
    env.get<KubeObject & { status?: KustomizationStatus }>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "web");
  const appliedRevision = () => page.getByTestId("applied-revision");

  it("should show the apps go Ready on the overview, then a pushed commit's revision without a reload", async () => {
    await page.goto(dash.url);
    const row = page.getByRole("row", { name: /^Kustomization/ });
    await expect.poll(() => row.locator('[data-state="ready"]').textContent(), { timeout: 120_000 }).toBe("2");

    await page.goto(`${dash.url}/#/apps/${env.namespace}/web`);
    await page.getByRole("heading", { level: 1, name: `Kustomization ${env.namespace}/web` }).waitFor();
    await page.evaluate(() => {
      (globalThis as unknown as { marker: number }).marker = 42;
    });
    const second = await env.repo.commit({ "apps/web/settings.yaml": configMap("web-settings", "bonjour") });
    await expect
      .poll(() => appliedRevision().locator("code").getAttribute("title"), { timeout: 90_000 })
      .toBe(`main@sha1:${second}`);
    expect(await page.getByRole("heading", { level: 1 }).locator("..").textContent()).toContain("Ready");
    // The same document: a reload would have dropped the marker.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
  });

  it("should show a broken manifest's app first among the failing, with the message the controller wrote", async () => {
    await page.goto(`${dash.url}/#/`);
    await env.repo.commit({ "apps/web/service.yaml": service(99_999) });
    const attention = page.getByRole("list", { name: "Failing and stalled objects" }).getByRole("listitem");
    await attention.first().waitFor({ timeout: 90_000 });
    expect(await attention.first().getByRole("link").textContent()).toBe(`${env.namespace}/web`);
    const message = await eventually(
      async () => (await ks())?.status?.conditions?.find((c) => c.type === "Ready" && c.status === "False")?.message,
      { timeoutMs: 30_000, what: "web's Ready=False message" },
    );
    // The apiserver's validation, as the controller reported it.
    expect(message).toContain("99999");
    await expect.poll(() => attention.first().textContent(), { timeout: 10_000 }).toContain(message.slice(0, 200));
  });

  it("should show an object changed by hand and reverted by the controller in the drift history", async () => {
    // db, the app that never failed, gains an object at this commit: its change set ("db-extra created") marks the
    // revision as applied, so the correction below is a change set at a revision already applied, whatever the
    // timing between the dashboard's watch and the controller's Events.
    const fixed = await env.repo.commit({
      "apps/web/service.yaml": service(80),
      "apps/db/kustomization.yaml": kustomization(["settings.yaml", "extra.yaml"]),
      "apps/db/extra.yaml": configMap("db-extra", "hi"),
    });
    const db = () =>
      env.get<KubeObject & { status?: KustomizationStatus }>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "db");
    await eventually(async () => (await db())?.status?.lastAppliedRevision === `main@sha1:${fixed}`, {
      timeoutMs: 90_000,
      what: "the commit applied to db",
    });
    await page.goto(`${dash.url}/#/apps/${env.namespace}/db`);
    await page.getByText("No object changed by hand and reverted").waitFor();
    // kubectl edit: another field manager changes a field the controller applied.
    await env.client.apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "db-settings", namespace: env.namespace },
        data: { greeting: "edited-by-hand" },
      },
      { fieldManager: "kubectl-edit", force: true },
    );
    // The controller puts it back (its drift watch), then the page lists the correction.
    await eventually(
      async () =>
        (await env.get<KubeObject & { data?: Record<string, string> }>("v1", "ConfigMap", "db-settings"))?.data
          ?.greeting === "hello",
      { timeoutMs: 90_000, what: "db-settings reverted by the controller" },
    );
    const drift = page.getByRole("list", { name: "Drift corrections" });
    await expect
      .poll(() => drift.textContent(), { timeout: 60_000 })
      .toContain(`ConfigMap/${env.namespace}/db-settings configured`);
  });
});
