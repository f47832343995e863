// What the HelmChart sub-reconcilers pass to one another within one pass.
import type { HelmChart } from "@capstan/api";
import type { WithConditions } from "@capstan/runtime";
import type { Build } from "./build.js";

export type HelmChartObject = HelmChart & WithConditions;

export interface HelmChartState {
  previousDigest?: string;
  build?: Build;
}

export const newState = (): HelmChartState => ({});
