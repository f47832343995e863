// @capstan/runtime/testing: fast, in-process stand-ins for unit tests of controllers (no control plane).
export {
  continued,
  MemoryClient,
  MemoryEventRecorder,
  type MemoryReconcilerOptions,
  memoryContext,
  memoryReconciler,
  type RecordedEvent,
  type RecordedWrite,
} from "./memory-client.js";
