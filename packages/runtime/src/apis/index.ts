export {
  Annotations,
  Conditions,
  type ConditionType,
  Finalizer,
  type Reason,
  Reasons,
  Values,
} from "./meta.js";
