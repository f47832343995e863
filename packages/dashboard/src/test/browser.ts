// Headless Chromium for the browser tests: Debian's `chromium` package (scripts/system-deps.sh installs it), driven by
// playwright-core, and the app built by Vite into a temp dir so the test runs what the sources say.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

// For tests outside this package (e2e), which do not depend on playwright-core themselves.
export type { Browser, BrowserContext, Page } from "playwright-core";

const candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function chromiumPath(): string {
  const path = process.env.CAPSTAN_CHROMIUM || candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      "no Chromium: install Debian's chromium package (./dev test does, through scripts/system-deps.sh) or set CAPSTAN_CHROMIUM",
    );
  }
  return path;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: test machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
}

/** Builds the browser app into a temp dir; returns it and a cleanup. */
export async function buildApp(): Promise<{ dir: string; remove(): void }> {
  const { build } = await import("vite");
  const dir = mkdtempSync(join(tmpdir(), "capstan-dashboard-app-"));
  await build({
    configFile: fileURLToPath(new URL("../../vite.app.config.ts", import.meta.url)),
    build: { outDir: dir, emptyOutDir: true, sourcemap: false },
    logLevel: "warn",
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Logs in through the login form with a bearer token. */
export async function logIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Kubernetes bearer token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** The overview's count of Kustomizations in `state` ("ready", "failing", ...), as the page shows it. */
export function kustomizationCount(page: Page, state: string): Promise<string | null> {
  return page
    .getByRole("row", { name: /^Kustomization/ })
    .locator(`[data-state="${state}"]`)
    .textContent();
}
