// Test helpers for packages whose tests need Capstan's CRDs on the shared control plane.
export { type EnsureCrdsOptions, ensureCrds } from "./ensure-crds.js";
