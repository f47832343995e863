export {
  aggregationKey,
  type EventSource,
  type EventType,
  type InvolvedObject,
  involvedObjectOf,
  newEvent,
  spamKey,
} from "./event-object.js";
export { createEventRecorder, type EventRecorderOptions, type KubeEventRecorder } from "./recorder.js";
