// Starts the Widget controller (main.ts) as a child process from source and follows its JSON log.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export interface ControllerProcess {
  child: ChildProcess;
  pid: number;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line matching `match`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Base URLs from the "serving" lines. */
  urls(): Promise<{ health: string; metrics: string }>;
  /** Resolves with the exit code (or signal) once the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; for cleanup. */
  kill(): Promise<void>;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export function startControllerProcess(args: string[], env: NodeJS.ProcessEnv = {}): ControllerProcess {
  const child = spawn(
    process.execPath,
    [
      "--experimental-transform-types",
      "--no-warnings",
      "--conditions=capstan-source",
      "--import",
      here("./ts-hooks.mjs"),
      here("./main.ts"),
      ...args,
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let buffered = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
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
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stdout?.resume();
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const waitForLog = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 30_000) => {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        const tail = logs
          .slice(-10)
          .map((l) => JSON.stringify(l))
          .join("\n");
        reject(new Error(`controller pid ${child.pid}: no matching log line in ${timeoutMs}ms; last lines:\n${tail}`));
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
  return {
    child,
    pid: child.pid ?? -1,
    logs,
    waitForLog,
    exited,
    urls: async () => {
      const health = await waitForLog((l) => l.msg === "serving" && (l.paths as string[]).includes("/readyz"));
      const metrics = await waitForLog((l) => l.msg === "serving" && (l.paths as string[]).includes("/metrics"));
      return { health: health.url as string, metrics: metrics.url as string };
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
