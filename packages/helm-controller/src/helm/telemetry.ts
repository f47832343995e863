// What releasing costs outside the controller's own event loop, so a benchmark (bench/helm) can split helm-controller's
// CPU into its own process, the helm children it forks, and the chart fetches: a count of helm forks per command with
// their result and the CPU seconds they took, and how each chart was obtained (from the cache or downloaded).
// The CPU of a child is read when it exits: the growth of this process's cutime + cstime (/proc/self/stat, the
// children it has reaped) since the previous exit. Children reaped in one go are charged to the first whose exit
// event runs, so per-command figures are close and their sum is exact. Off Linux (no /proc) the CPU reads 0.
import { readFileSync } from "node:fs";
import type { Metrics } from "@capstan/runtime";

export interface HelmTelemetry {
  /** CPU seconds of the children reaped since the previous call; call it from a child's exit event. */
  reapedCpuSeconds(): number;
  /** One helm child finished. */
  command(command: string, result: "success" | "error", cpuSeconds: number): void;
  /** A chart was prepared for an action: `cache` (already verified, on disk) or `download`. */
  chart(source: "cache" | "download"): void;
}

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK); /proc/<pid>/stat counts in these ticks.
const ticksPerSecond = 100;

/** cutime + cstime of this process in ticks; undefined where there is no /proc. */
export function reapedChildrenTicks(
  read: () => string = () => readFileSync("/proc/self/stat", "utf8"),
): number | undefined {
  let stat: string;
  try {
    stat = read();
  } catch {
    return undefined;
  }
  // Field 2 (comm) may hold spaces and parentheses: split after its closing ")". cutime and cstime are fields 16
  // and 17 of stat, 13 and 14 counting from field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return Number.isFinite(cutime) && Number.isFinite(cstime) ? cutime + cstime : undefined;
}

/** The telemetry in the controller's metrics registry (capstan_helm_* series, Capstan). */
export function helmTelemetry(
  metrics: Metrics,
  readTicks: () => number | undefined = reapedChildrenTicks,
): HelmTelemetry {
  const commands = metrics.counter(
    "capstan_helm_commands_total",
    "helm processes the controller ran, per command and result (Capstan).",
    ["command", "result"],
  );
  const cpu = metrics.counter(
    "capstan_helm_command_cpu_seconds_total",
    "CPU seconds (user + system) of the helm processes the controller ran, per command (Capstan).",
    ["command"],
  );
  const charts = metrics.counter(
    "capstan_helm_chart_fetches_total",
    "Charts prepared for an install or upgrade, per source: cache (verified earlier, kept by digest) or download (Capstan).",
    ["source"],
  );
  let last = readTicks();
  return {
    reapedCpuSeconds() {
      const now = readTicks();
      if (now === undefined || last === undefined) return 0;
      const delta = now - last;
      last = now;
      return Math.max(0, delta) / ticksPerSecond;
    },
    command(command, result, cpuSeconds) {
      commands({ command, result });
      cpu({ command }, cpuSeconds);
    },
    chart(source) {
      charts({ source });
    },
  };
}
