// @capstan/dashboard: the server half, for main.ts, tests, benchmarks and the demo.

export type * from "../shared/types.js";
export { type ActionRequest, fieldManager, performAction, requestedAtNow } from "./actions.js";
export { AccessReviewer } from "./auth/access.js";
export { AuthenticationError, type Principal, TokenReviewer } from "./auth/authenticate.js";
export { type OidcOptions, OidcVerifier } from "./auth/oidc.js";
export { OidcLogin, type OidcLoginOptions } from "./auth/oidc-login.js";
export { type Dashboard, type DashboardOptions, defaultStaticDir, isLoopback, startDashboard } from "./dashboard.js";
export { dashboardFlags, splitHostPort } from "./flags.js";
export { healthOf, parseInventoryId } from "./health.js";
export { commitUrl, redactUrl, stateOf, summarize } from "./model.js";
export { ClusterStore } from "./store.js";
