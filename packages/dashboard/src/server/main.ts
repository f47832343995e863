#!/usr/bin/env node
// The dashboard process: flags → client → store, auth and HTTP server; SIGTERM closes streams and exits 0.
import { createLogger, KubeClient, type LogEncoding, type LogLevel, parseFlagsOrExit } from "@capstan/runtime";
import { startDashboard } from "./dashboard.js";
import { dashboardFlags, splitHostPort } from "./flags.js";

const flags = parseFlagsOrExit("capstan-dashboard", dashboardFlags, process.argv.slice(2));
const logger = createLogger({ level: flags.logLevel as LogLevel, encoding: flags.logEncoding as LogEncoding });
const { host, port } = splitHostPort(flags.listenAddr);
const client = KubeClient.fromFlags(flags, "capstan-dashboard");
client.setLogger(logger);
try {
  const dashboard = await startDashboard({
    client,
    host,
    port,
    insecureLocal: flags.insecureLocal,
    secureCookie: flags.secureCookie,
    logger,
    ...(flags.watchNamespace ? { namespace: flags.watchNamespace } : {}),
  });
  logger.info({ url: dashboard.url, insecureLocal: flags.insecureLocal }, "dashboard serving");
  const stop = () => {
    logger.info({}, "stopping");
    void dashboard.close().then(() => {
      client.close();
      process.exit(0);
    });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} catch (err) {
  logger.error({ error: (err as Error).message }, "dashboard failed to start");
  client.close();
  process.exit(1);
}
