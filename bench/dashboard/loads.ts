// Page loads of the dashboard, timed without disturbing the page: one small script per load polls the DOM at each
// frame and records (in the page's own clock, converted to wall time) when each condition first held. Playwright's
// waitForFunction would first install its injected script (hundreds of kB) in the page while the app starts, and
// compete with it for the main thread.
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "@capstan/cluster";
import type { Browser, Page } from "../../packages/dashboard/src/test/browser.js";

export interface Dashboard {
  url: string;
  process: ChildProcess;
}

/** Starts a dashboard server from its built main.js, as the image's entrypoint runs it; resolves when it is ready. */
export async function startDashboard(main: string, kubeconfig: string): Promise<Dashboard> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // As the image's entrypoint runs it (Dockerfile, dashboard target).
      "--max-semi-space-size=1",
      main,
      "--insecure-local",
      `--listen-addr=127.0.0.1:${port}`,
      `--kubeconfig=${kubeconfig}`,
      "--kube-api-qps=0",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, process: child };
    if (child.exitCode !== null) throw new Error(`dashboard ${main} exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The measuring scripts are evaluated strings, which the dashboard's CSP (script-src 'self') would refuse.
export const newPage = (browser: Browser) =>
  browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });

/** Conditions on the overview and the list, for `objects` Kustomizations. */
export function conditions(objects: number) {
  return {
    /** The counts add up to every Kustomization, and the failing ones are listed. */
    overview: `(() => { const r = document.querySelector('tr[data-kind="Kustomization"]'); if (!r) return false;
      let s = 0; for (const td of r.querySelectorAll('td')) s += Number(td.textContent);
      return s === ${objects} && document.querySelector('ul.attention li') !== null; })()`,
    /** Rows of the list in the DOM (the first screen). */
    listRows: `document.querySelectorAll('table[aria-label="Applications"] tbody tr[data-key]').length > 0`,
    /** Every application in the list (filters and sorting work on all of them). */
    listAll: `document.querySelectorAll('table[aria-label="Applications"] tbody tr[data-key]').length > 0 &&
      document.body.textContent.includes('${objects} of ${objects} applications')`,
  };
}

/**
 * Loads `url` in `page` and returns, for each condition, the milliseconds from just before the navigation until it
 * first held (in a frame), plus the page-clock times of the app's performance marks.
 */
export async function timeLoad(
  page: Page,
  url: string,
  conds: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ times: Record<string, number>; marks: Record<string, number> }> {
  const start = Date.now();
  await page.goto(url, { waitUntil: "commit" });
  const checks = Object.entries(conds)
    .map(([k, c]) => `if (!(${JSON.stringify(k)} in seen) && (${c})) seen[${JSON.stringify(k)}] = at();`)
    .join("\n");
  const seen = (await page.evaluate(`new Promise((resolve, reject) => {
    const seen = {};
    const at = () => performance.timeOrigin + performance.now();
    const until = Date.now() + ${timeoutMs};
    const check = () => {
      try { ${checks} } catch {}
      if (Object.keys(seen).length === ${Object.keys(conds).length}) return resolve(seen);
      if (Date.now() > until) return reject(new Error("timed out; seen: " + JSON.stringify(seen)));
      requestAnimationFrame(check);
    };
    check();
  })`)) as Record<string, number>;
  const times = Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, Math.round(v - start)]));
  const marks = (await page.evaluate(`Object.fromEntries(
    performance.getEntriesByType("mark").filter((m) => m.name.startsWith("capstan:")).map((m) => [m.name.slice(8), Math.round(m.startTime)])
    .concat([["domContentLoaded", Math.round(performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd ?? -1)]]))`)) as Record<
    string,
    number
  >;
  return { times, marks };
}
