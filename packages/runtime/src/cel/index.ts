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
} from "./cel.js";
