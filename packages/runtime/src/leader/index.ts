export { type LeaderElectionOptions, LeaderElector } from "./elector.js";
export { acquiredSpec, formatMicroTime, heldByOther, type LeaseSpec } from "./lease-record.js";
