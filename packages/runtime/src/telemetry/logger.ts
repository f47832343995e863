import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";
import type PinoPretty from "pino-pretty";

// pino-pretty loads only for --log-encoding=console (a human at a terminal); the JSON logs of a deployed controller
// never need it.
const requirePretty = createRequire(import.meta.url);

export type { Logger } from "pino";

/** Flux's --log-level values (zap levels; trace is Flux's debug+1). */
export const logLevels = ["trace", "debug", "info", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logEncodings = ["json", "console"] as const;
export type LogEncoding = (typeof logEncodings)[number];

export interface LoggerOptions {
  level?: LogLevel;
  encoding?: LogEncoding;
  /** Where lines go; default stderr, as Flux's controllers write their logs. */
  destination?: DestinationStream;
}

/**
 * A pino logger that writes lines shaped like Flux's zap JSON: {"level":"info","ts":"<RFC 3339>","msg":...}.
 * Console encoding is for humans at a terminal.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const stream =
    options.encoding === "console"
      ? (requirePretty("pino-pretty") as typeof PinoPretty)({
          destination,
          sync: true,
          colorize: false,
          messageKey: "msg",
          timestampKey: "ts",
          translateTime: false,
        })
      : destination;
  return pino(
    {
      level: options.level ?? "info",
      messageKey: "msg",
      base: undefined,
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Defence in depth: whatever a caller logs, these never reach the output.
      redact: { paths: ["password", "token", "*.password", "*.token", "headers.authorization"], censor: "[redacted]" },
    },
    stream,
  );
}

export interface ReconcileLogFields {
  controller: string;
  group: string;
  kind: string;
  name: string;
  namespace?: string;
  reconcileID: string;
}

/** The child logger of one reconcile, with the fields controller-runtime puts on every line of it. */
export function reconcileLogger(base: Logger, f: ReconcileLogFields): Logger {
  return base.child({
    controller: f.controller,
    controllerGroup: f.group,
    controllerKind: f.kind,
    [f.kind]: f.namespace ? { name: f.name, namespace: f.namespace } : { name: f.name },
    namespace: f.namespace ?? "",
    name: f.name,
    reconcileID: f.reconcileID,
  });
}
