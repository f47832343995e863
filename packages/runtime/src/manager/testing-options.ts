// What the Manager unit tests share: widget-controller's flags parsed from argv and the parts no test looks at
// (a client nothing calls, a quiet logger, private metrics, no signal handlers).
import type { Client } from "../contracts.js";
import { commonFlags } from "../flags/common.js";
import { parseFlags } from "../flags/flags.js";
import { createLogger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import type { ManagerOptions } from "./manager.js";

export function quietManagerOptions(argv: string[]) {
  const parsed = parseFlags("widget-controller", commonFlags, argv);
  if (parsed.help) throw new Error("unexpected --help");
  return {
    name: "widget-controller",
    flags: parsed.values,
    client: {} as Client,
    logger: createLogger({ level: "error" }),
    metrics: new Metrics({ defaultMetrics: false }),
    handleSignals: false,
  } satisfies Partial<ManagerOptions>;
}
