export {
  type LabelRequirement,
  matchesLabelSelector,
  maxLabelSelectorLength,
  parseLabelSelector,
} from "./label-selector.js";
export {
  Annotations,
  Conditions,
  type ConditionType,
  Finalizer,
  type Reason,
  Reasons,
  Values,
} from "./meta.js";
