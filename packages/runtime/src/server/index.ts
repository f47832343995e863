export { parseListenAddress } from "./address.js";
export { type Check, HealthChecks } from "./health.js";
export { type Route, type RunningServer, serve } from "./http.js";
export { metricsRoute } from "./metrics.js";
