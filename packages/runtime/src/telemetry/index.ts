export {
  createLogger,
  type LogEncoding,
  type Logger as PinoLogger,
  type LoggerOptions,
  type LogLevel,
  logEncodings,
  logLevels,
  type ReconcileLogFields,
  reconcileLogger,
} from "./logger.js";
export { Metrics, type MetricsObjectRef, type ReconcileResultLabel } from "./metrics.js";
