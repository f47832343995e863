export {
  type Binaries,
  type BinaryName,
  binaryNames,
  cachedTool,
  ensureBinaries,
  type OptionalTool,
} from "./binaries.js";
export {
  type Component,
  type ControlPlane,
  type ControlPlaneOptions,
  fakeNodeName,
  startControlPlane,
} from "./control-plane.js";
export { freePort, isAlive, ManagedProcess, type ProcessSpec } from "./processes.js";
