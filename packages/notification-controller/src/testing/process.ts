// The notification-controller as a real child process, with the chart's arguments and environment, loopback ports,
// and its JSON log collected (raw text too, for "no secret in the log" checks).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { freePort } from "./recorder.js";

export interface ControllerProcess {
  child: ChildProcess;
  /** Every byte written to stderr and stdout. */
  output(): string;
  logs: Record<string, unknown>[];
  readonly healthUrl: string;
  readonly receiverUrl: string;
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once /readyz answers 200. */
  ready(timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; for cleanup. */
  kill(): Promise<void>;
}

export interface StartOptions {
  kubeconfig: string;
  /** Runtime namespace: the Lease lives here, and the controller watches only it (tests share one cluster). */
  namespace: string;
  args?: string[];
  /** Run dist/main.js (after `pnpm --filter @capstan/notification-controller... build`) instead of the sources. */
  fromDist?: boolean;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export async function startControllerProcess(options: StartOptions): Promise<ControllerProcess> {
  const [health, metrics, receiver] = [await freePort(), await freePort(), await freePort()];
  const entry = options.fromDist
    ? [here("../../dist/main.js")]
    : [
        "--experimental-transform-types",
        "--no-warnings",
        "--conditions=capstan-source",
        "--import",
        here("./ts-hooks.mjs"),
        here("../main.ts"),
      ];
  // The Helm chart's arguments, with the e2e harness's rewrites (kubeconfig, loopback ports), then the test's own.
  const args = [
    `--health-addr=127.0.0.1:${health}`,
    `--metrics-addr=127.0.0.1:${metrics}`,
    "--log-level=info",
    "--log-encoding=json",
    "--watch-all-namespaces=false",
    "--concurrent=4",
    "--leader-elect=true",
    `--receiver-addr=127.0.0.1:${receiver}`,
    `--kubeconfig=${options.kubeconfig}`,
    "--min-retry-delay=100ms",
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, [...entry, ...args], {
    env: { ...process.env, RUNTIME_NAMESPACE: options.namespace, POD_NAME: `notification-controller-${process.pid}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let raw = "";
  let buffered = "";
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  const onText = (chunk: string) => {
    raw += chunk;
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const text of lines) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text, raw: true };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (!w.match(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stderr?.setEncoding("utf8").on("data", onText);
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    raw += c;
  });
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const waitForLog = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 30_000) => {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`notification-controller: no matching log line in ${timeoutMs}ms; log tail:\n${raw.slice(-3000)}`),
        );
      }, timeoutMs);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  };
  const healthUrl = `http://127.0.0.1:${health}`;
  return {
    child,
    output: () => raw,
    logs,
    healthUrl,
    receiverUrl: `http://127.0.0.1:${receiver}`,
    waitForLog,
    exited,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`notification-controller exited early:\n${raw.slice(-3000)}`);
        const status = await fetch(`${healthUrl}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) return;
        if (Date.now() > deadline)
          throw new Error(`notification-controller not ready in ${timeoutMs}ms:\n${raw.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
