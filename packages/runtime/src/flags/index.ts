export { type CommonFlagSpecs, type CommonFlags, commonFlags, controllerFlags, runtimeNamespace } from "./common.js";
export { formatDuration, parseDuration } from "./duration.js";
export {
  FlagError,
  type FlagSpec,
  type FlagSpecs,
  type FlagValues,
  formatUsage,
  type ParsedFlags,
  parseFlags,
} from "./flags.js";
export { parseFlagsOrExit, runMain } from "./main.js";
