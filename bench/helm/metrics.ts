// What helm-controller says about where its time and CPU went, read from its /metrics at the end of a run: the helm
// processes it forked (capstan_helm_commands_total, capstan_helm_command_cpu_seconds_total), how charts were obtained
// (capstan_helm_chart_fetches_total: cache or download) and the reconcile trace summed per step
// (capstan_reconcile_step_duration_seconds{kind="HelmRelease"}: wall time, so concurrent reconciles overlap).
import { request } from "node:http";

export interface HelmBreakdown {
  /** Per helm command: processes run, and their CPU seconds. */
  forks: Record<string, { count: number; cpuSeconds: number }>;
  /** Charts prepared for an action, per source. */
  charts: Record<string, number>;
  /** Per traced step of a HelmRelease reconcile: wall seconds summed over reconciles, and how many reconciles ran it. */
  steps: Record<string, { seconds: number; count: number }>;
  /** Reconciles per result (controller_runtime_reconcile_total). */
  reconciles: Record<string, number>;
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

/** Samples `name{labels} value` of the Prometheus text format (no timestamps, as prom-client writes it). */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

export async function helmBreakdown(metricsAddr: string): Promise<HelmBreakdown> {
  const text = await get(`http://${metricsAddr}/metrics`);
  const b: HelmBreakdown = { forks: {}, charts: {}, steps: {}, reconciles: {} };
  const fork = (cmd: string) => {
    b.forks[cmd] ??= { count: 0, cpuSeconds: 0 };
    return b.forks[cmd];
  };
  const step = (name: string) => {
    b.steps[name] ??= { seconds: 0, count: 0 };
    return b.steps[name];
  };
  for (const s of samples(text, "capstan_helm_commands_total")) fork(s.labels.command ?? "?").count += s.value;
  for (const s of samples(text, "capstan_helm_command_cpu_seconds_total")) {
    fork(s.labels.command ?? "?").cpuSeconds += s.value;
  }
  for (const s of samples(text, "capstan_helm_chart_fetches_total")) b.charts[s.labels.source ?? "?"] = s.value;
  for (const s of samples(text, "capstan_reconcile_step_duration_seconds_sum")) {
    if (s.labels.kind === "HelmRelease") step(s.labels.step ?? "?").seconds = s.value;
  }
  for (const s of samples(text, "capstan_reconcile_step_duration_seconds_count")) {
    if (s.labels.kind === "HelmRelease") step(s.labels.step ?? "?").count = s.value;
  }
  for (const s of samples(text, "controller_runtime_reconcile_total")) {
    if (s.value > 0) b.reconciles[s.labels.result ?? "?"] = s.value;
  }
  return b;
}
