// @capstan/runtime: what every Capstan controller shares.
export * from "./apis/index.js";
export * from "./cel/index.js";
export * from "./client/index.js";
export * from "./contracts.js";
export * from "./events/index.js";
export * from "./flags/index.js";
export * from "./informer/index.js";
export * from "./leader/index.js";
export * from "./manager/index.js";
export * from "./proxy/index.js";
export * from "./queue/index.js";
export * from "./reconcile/index.js";
export * from "./secrets/index.js";
export * from "./server/index.js";
export * from "./telemetry/index.js";
