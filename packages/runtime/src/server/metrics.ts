import type { Metrics } from "../telemetry/metrics.js";
import type { Route } from "./http.js";

export function metricsRoute(metrics: Metrics): Route {
  return async (_req, res) => {
    const body = await metrics.text();
    res.writeHead(200, { "content-type": metrics.contentType });
    res.end(body);
  };
}
