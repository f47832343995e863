// The opening the dashboard's integration tests share, registered as a file's beforeAll/afterAll: the run's control
// plane (testCluster), what the file puts in it, and a dashboard started in-process on it; for the browser tests also
// the app built by Vite and headless Chromium, with a fresh browser context for each page, closed after each test.
// Kept apart from browser.ts, which e2e and the benchmark import outside vitest.
import { testKubeconfigPath } from "@capstan/cluster/testing";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, inject } from "vitest";
import type { Dashboard, DashboardOptions } from "../server/index.js";
import { buildApp, launchChromium, logIn } from "./browser.js";
import { dashboard, type TestCluster, testCluster } from "./harness.js";

/** Puts the file's objects in the cluster; returns the dashboard's options beyond its client (none: the defaults). */
export type Setup = (tc: TestCluster) => Promise<Partial<DashboardOptions> | undefined>;

export interface DashboardSuite {
  readonly tc: TestCluster;
  readonly dash: Dashboard;
}

export interface BrowserSuite extends DashboardSuite {
  readonly browser: Browser;
  /** A page in a new browser context (closed after the test). */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** A page in a new browser context, logged in through the login form with a bearer token. */
  pageAs(token: string): Promise<Page>;
}

// A busy test machine (two cores, several suites) can take seconds to render: poll for longer than the default 1 s.
export function poll<T>(
  fn: () => T | Promise<T>,
  options: { timeout?: number } = {},
): ReturnType<typeof expect.poll<T | Promise<T>>> {
  return expect.poll(fn, { timeout: 20_000, ...options });
}

/** The dashboard server on the run's control plane, for the tests of a file. */
export function dashboardSuite(setup: Setup): DashboardSuite {
  return register(setup);
}

/** The dashboard server with the app it serves, and headless Chromium to open it, for the tests of a file. */
export function browserSuite(setup: Setup): BrowserSuite {
  let app: { dir: string; remove(): void } | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const parts = register(setup, {
    start: async () => {
      [app, browser] = await Promise.all([buildApp(), launchChromium()]);
      return { staticDir: app.dir };
    },
    stop: async () => {
      await browser?.close();
    },
    removed: () => app?.remove(),
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });
  const newPage = async (options?: BrowserContextOptions) => {
    const context = await need(browser, "browser").newContext(options);
    contexts.push(context);
    return context.newPage();
  };
  return {
    get tc() {
      return parts.tc;
    },
    get dash() {
      return parts.dash;
    },
    get browser() {
      return need(browser, "browser");
    },
    newPage,
    pageAs: async (token) => {
      const page = await newPage();
      await logIn(page, parts.dash.url, token);
      return page;
    },
  };
}

interface Extra {
  /** Before the file's setup; returns dashboard options the setup's own may override. */
  start(): Promise<Partial<DashboardOptions>>;
  /** Before the dashboard closes. */
  stop(): Promise<void>;
  /** After the dashboard closed. */
  removed(): void;
}

function register(setup: Setup, extra?: Extra): DashboardSuite {
  let tc: TestCluster | undefined;
  let dash: Dashboard | undefined;
  beforeAll(async () => {
    tc = await testCluster(testKubeconfigPath(inject("capstanKubeconfig")));
    const base = (await extra?.start()) ?? {};
    dash = await dashboard(tc.client, { ...base, ...((await setup(tc)) ?? {}) });
  });
  afterAll(async () => {
    await extra?.stop();
    await dash?.close();
    extra?.removed();
    await tc?.cleanup();
  });
  return {
    get tc() {
      return need(tc, "tc");
    },
    get dash() {
      return need(dash, "dash");
    },
  };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`dashboard test suite: ${what} read before beforeAll`);
  return value;
}
