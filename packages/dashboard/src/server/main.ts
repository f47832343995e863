#!/usr/bin/env node
// The dashboard process: flags → client → store, auth and HTTP server; SIGTERM closes streams and exits 0.
import { readFileSync } from "node:fs";
import { createLogger, KubeClient, type LogEncoding, type LogLevel, parseFlagsOrExit } from "@capstan/runtime";
import type { OidcOptions } from "./auth/oidc.js";
import type { OidcLoginOptions } from "./auth/oidc-login.js";
import { isLoopback, startDashboard } from "./dashboard.js";
import { dashboardFlags, splitHostPort } from "./flags.js";

const flags = parseFlagsOrExit("capstan-dashboard", dashboardFlags, process.argv.slice(2));
const logger = createLogger({ level: flags.logLevel as LogLevel, encoding: flags.logEncoding as LogEncoding });

function fail(message: string): never {
  logger.error({}, message);
  process.exit(1);
}

let address: { host: string; port: number };
try {
  address = splitHostPort(flags.listenAddr);
} catch (err) {
  fail((err as Error).message);
}
if (flags.insecureLocal && !isLoopback(address.host)) {
  fail(`--insecure-local needs a loopback --listen-addr (127.0.0.1, ::1, localhost), not ${address.host}`);
}
let client: KubeClient;
try {
  client = KubeClient.fromFlags(flags, "capstan-dashboard");
} catch (err) {
  fail(`kubernetes client: ${(err as Error).message}`);
}
client.setLogger(logger);
if (flags.oidcIssuerUrl && !flags.oidcClientId) fail("--oidc-issuer-url needs --oidc-client-id");
let oidc: (OidcOptions & { login: OidcLoginOptions }) | undefined;
if (flags.oidcIssuerUrl) {
  oidc = {
    issuerUrl: flags.oidcIssuerUrl,
    clientId: flags.oidcClientId,
    usernameClaim: flags.oidcUsernameClaim,
    ...(flags.oidcUsernamePrefix ? { usernamePrefix: flags.oidcUsernamePrefix } : {}),
    ...(flags.oidcGroupsClaim ? { groupsClaim: flags.oidcGroupsClaim } : {}),
    groupsPrefix: flags.oidcGroupsPrefix,
    login: {
      scopes: flags.oidcScopes
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      ...(flags.oidcRedirectUrl ? { redirectUrl: flags.oidcRedirectUrl } : {}),
    },
  };
  try {
    if (flags.oidcClientSecretFile) oidc.login.clientSecret = readFileSync(flags.oidcClientSecretFile, "utf8").trim();
  } catch (err) {
    fail(`--oidc-client-secret-file: ${(err as Error).message}`);
  }
  try {
    if (flags.oidcCaFile) oidc.ca = readFileSync(flags.oidcCaFile, "utf8");
  } catch (err) {
    fail(`--oidc-ca-file: ${(err as Error).message}`);
  }
}
try {
  const dashboard = await startDashboard({
    client,
    ...address,
    insecureLocal: flags.insecureLocal,
    secureCookie: flags.secureCookie,
    logger,
    ...(oidc ? { oidc } : {}),
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
  client.close();
  fail(`dashboard failed to start: ${(err as Error).message}`);
}
