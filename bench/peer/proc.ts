// CPU and memory of a controller process, read from /proc: CPU = utime + stime of the process plus cutime + cstime of
// the children it has reaped (git, kustomize), so a controller that forks is charged for its forks; memory = VmHWM
// (the kernel's peak resident set of the process itself) and a sampled peak of the process tree's summed VmRSS.
import { readFile, writeFile } from "node:fs/promises";

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK); /proc/<pid>/stat counts in these ticks.
const ticksPerSecond = 100;

/** Seconds of CPU of `pid` and of its reaped children. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may hold spaces and parentheses: split after its closing ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 counting from field 3.
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
  return (utime + stime + cutime + cstime) / ticksPerSecond;
}

/** Seconds of CPU of `pid` itself and of the children it has reaped, apart. */
export async function cpuSplit(pid: number): Promise<{ own: number; children: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
  return { own: (utime + stime) / ticksPerSecond, children: (cutime + cstime) / ticksPerSecond };
}

async function statusField(pid: number, name: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
}

/** Peak resident set of the process itself, KiB. */
export const peakRssKiB = (pid: number) => statusField(pid, "VmHWM");

/**
 * Resets the process's VmHWM to its resident set now (`5` into /proc/<pid>/clear_refs, the kernel's documented
 * reset). The bench reads Capstan's /metrics between phases (the reconcile trace, the memory readout); rendering a
 * 1,000-object exposition costs a transient 10+ MiB that is the measurement's, not the workload's, and Flux's side is
 * not scraped: the bench reads the peak before its scrapes and resets it after them.
 */
export const resetPeakRss = (pid: number) => writeFile(`/proc/${pid}/clear_refs`, "5");

async function children(pid: number): Promise<number[]> {
  const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return tasks.split(" ").filter(Boolean).map(Number);
}

/** Summed VmRSS of `pid` and all its descendants now, KiB (a process that exits meanwhile counts 0). */
export async function treeRssKiB(pid: number): Promise<number> {
  const own = await statusField(pid, "VmRSS").catch(() => 0);
  let sum = Number.isNaN(own) ? 0 : own;
  for (const child of await children(pid)) sum += await treeRssKiB(child);
  return sum;
}

/** Samples the tree RSS of each pid every `everyMs` until stopped; peak() gives the highest sum seen per pid. */
export function sampleTreeRss(pids: readonly number[], everyMs = 200): { peak(): number[]; stop(): void } {
  const peaks = pids.map(() => 0);
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      for (const [i, pid] of pids.entries()) {
        const kib = await treeRssKiB(pid).catch(() => 0);
        if (kib > (peaks[i] ?? 0)) peaks[i] = kib;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  void loop();
  return {
    peak: () => [...peaks],
    stop: () => {
      stopped = true;
    },
  };
}
