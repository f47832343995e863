// @capstan/runtime: what every Capstan controller shares.
export * from "./client/index.js";
export * from "./contracts.js";
export * from "./events/index.js";
export * from "./flags/index.js";
export * from "./informer/index.js";
export * from "./leader/index.js";
export * from "./manager/index.js";
export * from "./queue/index.js";
export * from "./reconcile/index.js";
export * from "./server/index.js";
export * from "./telemetry/index.js";
