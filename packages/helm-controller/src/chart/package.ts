// How a pass gets a chart package into its scratch directory: through the chart cache (kept by digest, verified on
// use) when the controller has one, else downloaded and verified. Says which, for capstan_helm_chart_fetches_total.
import { writeFile } from "node:fs/promises";
import type { ChartCache } from "./cache.js";
import { type ChartArtifact, downloadChart, type FetchChartOptions } from "./fetch.js";

export async function fetchPackage(
  artifact: Pick<ChartArtifact, "url" | "digest" | "revision">,
  dest: string,
  options: FetchChartOptions,
  cache: ChartCache | undefined,
): Promise<"cache" | "download"> {
  if (cache) return cache.fetchTo(artifact, dest, options);
  await writeFile(dest, await downloadChart(artifact, options), { mode: 0o600 });
  return "download";
}
