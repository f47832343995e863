// A Capstan controller as a child process, for process-level tests and benchmarks: its JSON log (pino writes one line
// per entry to stderr) parsed as it arrives, every byte of output kept (for "no secret in the log" checks), and the
// lifecycle a test drives: wait for a log line or /readyz, SIGTERM and wait for the exit, SIGKILL on cleanup.
// Each controller package wraps this with its own entry point and its Helm chart's arguments.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export { freePort } from "./processes.js";

export type LogLine = Record<string, unknown>;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The resolve hook that lets node run TypeScript sources whose imports are written with .js extensions. */
export const tsHooksPath = fileURLToPath(new URL("../ts-hooks.mjs", import.meta.url));

/** Node's arguments to run a TypeScript entry point from source, with workspace packages resolved to their sources. */
export function fromSource(main: string): string[] {
  return [
    "--experimental-transform-types",
    "--no-warnings",
    "--conditions=capstan-source",
    "--import",
    tsHooksPath,
    main,
  ];
}

export interface SpawnControllerOptions {
  /** Names the process in error messages ("source-controller"). */
  name: string;
  /** Node's arguments up to and including the entry point: `[dist/main.js]`, or `fromSource(src/main.ts)`. */
  entry: string[];
  /** The controller's own arguments. */
  args: string[];
  /** Set over this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Base URL of /readyz when the port is fixed up front; without it, ready() reads it from the "serving" log line. */
  healthUrl?: string;
}

export interface ControllerProcess {
  child: ChildProcess;
  pid: number;
  /** The controller's arguments, as given. */
  args: string[];
  /** Parsed JSON log lines so far (a line that is not JSON is kept as `{ msg, raw: true }`). */
  logs: LogLine[];
  /** Every byte written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first log line matching `match` (already logged or still to come). */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Base URLs from the "serving" log lines (for a controller started with ports :0). */
  urls(): Promise<{ health: string; metrics: string }>;
  /** Resolves once /readyz answers 200; rejects if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal) once the process has ended and all its output has been read. */
  exited: Promise<ExitStatus>;
  /** SIGTERM, then the exit. */
  terminate(): Promise<ExitStatus>;
  /** SIGKILL if still running; for cleanup. */
  kill(): Promise<void>;
}

export function spawnController(options: SpawnControllerOptions): ControllerProcess {
  const { name, args } = options;
  const child = spawn(process.execPath, [...options.entry, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = () => output.slice(-3000);
  let output = "";
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (text) => {
    const line = parseLine(text);
    logs.push(line);
    for (const waiter of waiters) {
      if (!waiter.match(line)) continue;
      waiters.delete(waiter);
      waiter.resolve(line);
    }
  });
  // "close", not "exit": the exit can be seen before the last bytes of stdout/stderr are read, and a test that awaits
  // the exit then reads the log (the "stopped" line, "no secret in the output") must see all of it.
  const exited = once(child, "close").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const running = () => child.exitCode === null && child.signalCode === null;

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line: LogLine) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${name} pid ${child.pid}: no matching log line in ${timeoutMs}ms; log tail:\n${tail()}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };
  const serving = (path: string) => (l: LogLine) =>
    l.msg === "serving" && Array.isArray(l.paths) && l.paths.includes(path);
  const urls = async () => {
    const health = await waitForLog(serving("/readyz"));
    const metrics = await waitForLog(serving("/metrics"));
    return { health: health.url as string, metrics: metrics.url as string };
  };

  return {
    child,
    pid: child.pid ?? -1,
    args,
    logs,
    output: () => output,
    waitForLog,
    urls,
    exited,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const healthUrl = options.healthUrl ?? (await urls()).health;
      for (;;) {
        if (!running()) throw new Error(`${name} exited early:\n${tail()}`);
        const status = await fetch(`${healthUrl}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) return;
        if (Date.now() > deadline) throw new Error(`${name} not ready in ${timeoutMs}ms:\n${tail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async terminate() {
      if (running()) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (!running()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

function parseLine(text: string): LogLine {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as LogLine;
  } catch {
    // not JSON: kept as text below
  }
  return { msg: text, raw: true };
}
