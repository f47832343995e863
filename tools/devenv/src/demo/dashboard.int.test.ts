// The dashboard as `./dev demo` serves it and the URL line it prints: the URL answers with the app, without a login,
// on 9090 or, when 9090 is taken, on another port.
import { createServer, type Server } from "node:net";
import { testKubeconfigPath } from "@capstan/cluster/testing";
import type { Dashboard } from "@capstan/dashboard";
import { KubeClient } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { preferredDashboardPort, startDemoDashboard } from "./dashboard.js";
import { dashboardLine } from "./state.js";

let client: KubeClient;
let blocker: Server | undefined;
let dash: Dashboard;

beforeAll(async () => {
  client = new KubeClient({ kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")) });
  // Hold 9090 (unless something else already does), as a developer's other service might.
  blocker = await new Promise<Server | undefined>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(undefined));
    s.listen(preferredDashboardPort, "127.0.0.1", () => resolve(s));
  });
  dash = await startDemoDashboard(client);
});
afterAll(async () => {
  await dash?.close();
  await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
  client?.close();
});

describe("Given the demo's dashboard", () => {
  it("should print a loopback URL that serves the app with no login, on another port when 9090 is taken", async () => {
    const line = dashboardLine(dash.url);
    const url = /^dashboard: (http:\/\/127\.0\.0\.1:(\d+)) {3}\(no login; this machine only\)$/.exec(line);
    expect(url?.[1]).toBe(dash.url);
    expect(Number(url?.[2])).not.toBe(preferredDashboardPort);
    const page = await fetch(`${url?.[1]}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const who = await fetch(`${url?.[1]}/api/whoami`);
    expect(await who.json()).toMatchObject({ insecure: true });
  });
});
