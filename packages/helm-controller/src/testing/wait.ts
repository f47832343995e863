// Waiting on a HelmRelease's state in integration tests.
import { HelmReleaseConditions } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import type { HelmReleaseObject } from "../helmrelease/types.js";
import { conditionOf, type Harness } from "./harness.js";

/** Waits until the HelmRelease is Ready with release `version` newest in its history (and `also` holds). */
export function readyAt(
  h: Harness,
  name: string,
  version: number,
  also: (hr: HelmReleaseObject) => boolean = () => true,
): Promise<HelmReleaseObject> {
  return eventually(
    async () => {
      const hr = await h.getHelmRelease(name);
      return (
        conditionOf(hr, "Ready")?.status === "True" && hr?.status?.history?.[0]?.version === version && also(hr) && hr
      );
    },
    { timeoutMs: 90_000, what: `${name} Ready at v${version}` },
  );
}

/** Waits until the HelmRelease's Released condition is False: its install or upgrade failed. */
export function releaseFailed(h: Harness, name: string, timeoutMs = 90_000): Promise<HelmReleaseObject> {
  return eventually(
    async () => {
      const hr = await h.getHelmRelease(name);
      return conditionOf(hr, HelmReleaseConditions.Released)?.status === "False" && hr;
    },
    { timeoutMs, what: `${name} Released False` },
  );
}
