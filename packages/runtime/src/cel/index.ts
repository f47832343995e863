export {
  CelError,
  type CelOptions,
  type CelProgram,
  type CelStage,
  type CelType,
  celLimits,
  compileCel,
  comprehensionNesting,
  maxComprehensionNesting,
  toCel,
  unsafePattern,
} from "./cel.js";
export { maxPatternLength, unsafeRegex } from "./regex.js";
