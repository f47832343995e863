// The client against a local HTTP server that plays an apiserver: API Priority and Fairness headers switch the
// rate limiter off, their absence keeps it, and a 429 with Retry-After is retried after the time it names.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiError } from "./errors.js";
import { KubeClient, type KubeClientOptions } from "./kube-client.js";
import { maxRetryAfterMs, maxThrottleRetries } from "./transport.js";

type Reply = { status: number; headers?: Record<string, string>; body?: unknown };

const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "ns" } };
const apfHeaders = {
  "X-Kubernetes-PF-FlowSchema-UID": "0e9f1b7a-fs",
  "X-Kubernetes-PF-PriorityLevel-UID": "6c2d9e4b-pl",
};
// Discovery of v1 is served without a script: only the requests under test follow `replies`.
const coreV1 = {
  kind: "APIResourceList",
  groupVersion: "v1",
  resources: [{ name: "configmaps", namespaced: true, kind: "ConfigMap", verbs: ["get", "create"] }],
};

let server: http.Server | undefined;
let client: KubeClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Serves `replies` in order (the last one repeats); every reply carries `common` headers. */
async function serve(replies: Reply[], common: Record<string, string> = {}) {
  const seen: string[] = [];
  server = http.createServer((req, res) => {
    req.resume();
    if (req.url === "/api/v1") {
      res.writeHead(200, { "content-type": "application/json", ...common });
      res.end(JSON.stringify(coreV1));
      return;
    }
    seen.push(`${req.method} ${req.url}`);
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)] as Reply;
    res.writeHead(reply.status, { "content-type": "application/json", ...common, ...reply.headers });
    res.end(JSON.stringify(reply.body ?? configMap));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "local", cluster: "local", user: "u" }],
    currentContext: "local",
  });
  return { kc, seen };
}

function connect(kc: KubeConfig, options: Omit<KubeClientOptions, "kubeConfig"> = {}) {
  client = new KubeClient({ kubeConfig: kc, ...options });
  return client;
}

const ref = { apiVersion: "v1", kind: "ConfigMap", name: "c", namespace: "ns" };
const tooMany = (retryAfter?: string): Reply => ({
  status: 429,
  ...(retryAfter === undefined ? {} : { headers: { "Retry-After": retryAfter } }),
  body: { kind: "Status", status: "Failure", reason: "TooManyRequests", message: "slow down", code: 429 },
});

describe("KubeClient flow control", () => {
  it("Given a server that answers with APF headers, should switch the limiter off and log it once", async () => {
    const { kc } = await serve([{ status: 200 }], apfHeaders);
    const lines: string[] = [];
    const c = connect(kc, { qps: 1, burst: 1 });
    c.setLogger({ info: (_o, msg) => lines.push(msg) });
    expect(c.flowControl()).toEqual({ priorityAndFairness: false, limiterEnabled: true, throttledRequests: 0 });
    for (let i = 0; i < 20; i++) await c.get(ref);
    expect(c.flowControl()).toEqual({ priorityAndFairness: true, limiterEnabled: false, throttledRequests: 0 });
    expect(lines).toEqual(["API Priority and Fairness detected: client-side rate limiting disabled"]);
  });

  it("Given a server without APF headers, should keep the limiter and make callers wait for tokens", async () => {
    const { kc } = await serve([{ status: 200 }]);
    // 1000 qps: waits are a millisecond each, but they are waits, and the counter shows them.
    const c = connect(kc, { qps: 1000, burst: 1 });
    await Promise.all(Array.from({ length: 5 }, () => c.get(ref)));
    const state = c.flowControl();
    expect(state.priorityAndFairness).toBe(false);
    expect(state.limiterEnabled).toBe(true);
    expect(state.throttledRequests).toBeGreaterThan(0);
  });

  it("Given an impersonating client, should share what the root client learnt", async () => {
    const { kc } = await serve([{ status: 200 }], apfHeaders);
    const c = connect(kc, { qps: 1, burst: 1 });
    const sa = c.impersonate({ user: "system:serviceaccount:ns:sa" });
    await sa.get(ref);
    expect(c.flowControl().limiterEnabled).toBe(false);
  });
});

describe("KubeClient on 429 Too Many Requests", () => {
  it.each([
    ["GET", (c: KubeClient) => c.get(ref)],
    ["POST", (c: KubeClient) => c.create(configMap)],
  ])("Given a 429 with Retry-After on a %s, should wait the time it names and retry", async (method, call) => {
    const { kc, seen } = await serve([tooMany("7"), { status: 200 }]);
    const waits: number[] = [];
    const c = connect(kc, { sleep: async (ms) => void waits.push(ms) });
    const got = await call(c);
    expect(got?.metadata.name).toBe("c");
    expect(waits).toEqual([7000]);
    expect(seen.map((s) => s.split(" ")[0])).toEqual([method, method]);
  });

  it("Given a server that keeps answering 429, should give up after the bounded retries, each wait capped", async () => {
    const { kc, seen } = await serve([tooMany("3600")]);
    const waits: number[] = [];
    const c = connect(kc, { sleep: async (ms) => void waits.push(ms) });
    const err = (await c.get(ref).catch((e) => e)) as ApiError;
    expect(err.reason).toBe("TooManyRequests");
    expect(seen).toHaveLength(maxThrottleRetries + 1);
    expect(waits).toEqual(Array(maxThrottleRetries).fill(maxRetryAfterMs));
  });

  it("Given a 429 without Retry-After, should not retry (as client-go)", async () => {
    const { kc, seen } = await serve([tooMany(), { status: 200 }]);
    const c = connect(kc, { sleep: async () => undefined });
    const err = (await c.get(ref).catch((e) => e)) as ApiError;
    expect(err.status).toBe(429);
    expect(seen).toHaveLength(1);
  });

  it("Given the client is closed during a Retry-After wait, should stop waiting and fail with the 429", async () => {
    const { kc, seen } = await serve([tooMany("50"), { status: 200 }]);
    const c = connect(kc);
    const pending = c.get(ref).catch((e) => e);
    await new Promise<void>((resolve) => {
      const poll = () => (seen.length > 0 ? setTimeout(resolve, 20) : setTimeout(poll, 5));
      poll();
    });
    c.close();
    const err = (await pending) as ApiError;
    expect(err.status).toBe(429);
    expect(seen).toHaveLength(1);
  });
});
