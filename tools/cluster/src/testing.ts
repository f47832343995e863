// Helpers for tests that run against the control plane of the test run (see vitest/global-setup.ts).
import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

// What the global setup provides to every test (read with inject("capstanKubeconfig")).
declare module "vitest" {
  export interface ProvidedContext {
    capstanKubeconfig: string;
    /** PATH fragment of the pinned binaries; empty under CAPSTAN_NO_CLUSTER=1 (unit tests build no Go). */
    capstanBinPath: string;
  }
}

/** The kubeconfig path that the global setup provided, or CAPSTAN_TEST_KUBECONFIG for an outside cluster. */
export function testKubeconfigPath(injected?: string): string {
  const path = injected || process.env.CAPSTAN_TEST_KUBECONFIG;
  if (!path) {
    throw new Error(
      "no control plane for this test: run it through vitest with the capstan global setup, not CAPSTAN_NO_CLUSTER=1",
    );
  }
  return path;
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace and waits until it is gone (or 60s pass). */
  delete(): Promise<void>;
}

/** A fresh namespace with a unique name; call delete() when the test ends (onTestFinished or afterEach). */
export async function createTestNamespace(kc: KubeConfig, prefix = "test"): Promise<TestNamespace> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40)}-${randomBytes(3).toString("hex")}`;
  await core.createNamespace({ body: { metadata: { name, labels: { "capstan.dev/test": "true" } } } });
  return {
    name,
    delete: async () => {
      try {
        await core.deleteNamespace({ name });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return;
        throw err;
      }
    },
  };
}

/** Polls fn until it returns a value other than undefined/false, or throws the last error after timeoutMs. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 200, what = "condition" as string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? `: ${last.message}` : "";
      const name = typeof what === "function" ? what() : what;
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${name}${detail}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface RawResponse {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/**
 * A plain HTTPS call with the kubeconfig's credentials, for what typed clients make awkward in tests (impersonation
 * headers, odd content types). `headers` may carry Impersonate-User and friends.
 */
export async function rawRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; contentType?: string } = {},
): Promise<RawResponse> {
  const { request } = await import("node:https");
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("rawRequest: kubeconfig has no current cluster");
  const url = new URL(path, cluster.server);
  const opts: import("node:https").RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { accept: "application/json", ...options.headers },
  };
  await kc.applyToHTTPSOptions(opts);
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  if (payload !== undefined) {
    opts.headers = { ...opts.headers, "content-type": options.contentType ?? "application/json" };
  }
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        data += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data, json: <T>() => JSON.parse(data) as T }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}
