import "@capstan/cluster/testing";
import { Agent, request } from "node:https";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { orasPush, registryCredentials, startRegistry, type TestRegistry } from "./registry.js";

function get(registry: TestRegistry, path: string, auth?: string): Promise<{ status: number; auth: string }> {
  const agent = new Agent({ ca: registry.pki?.caCert });
  return new Promise((ok, fail) => {
    const req = request(
      `https://${registry.host}${path}`,
      {
        agent,
        // The registry answers 404 for an OCI manifest to a client that does not accept the OCI media type.
        headers: { accept: "application/vnd.oci.image.manifest.v1+json", ...(auth ? { authorization: auth } : {}) },
      },
      (res) => {
        res.resume();
        ok({ status: res.statusCode ?? 0, auth: String(res.headers["www-authenticate"] ?? "") });
      },
    );
    req.on("error", fail);
    req.end();
  });
}

/** Pushes apps/demo:1.0.0 with the real oras and checks the digest it reports. */
async function pushDemo(registry: TestRegistry): Promise<void> {
  const digest = await orasPush({
    binPath: inject("capstanBinPath"),
    registry,
    reference: "apps/demo:1.0.0",
    files: [{ name: "a.txt", content: "hello", mediaType: "text/plain" }],
  });
  expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
}

describe("Given the distribution registry started with TLS and htpasswd auth", () => {
  const binPath = inject("capstanBinPath");
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ binPath, tls: true, auth: true });
  });
  afterAll(async () => registry?.close());

  it("should refuse anonymous requests with a Basic challenge and accept the test account", async () => {
    expect(await get(registry, "/v2/")).toMatchObject({ status: 401, auth: expect.stringMatching(/^Basic /) });
    const basic = `Basic ${Buffer.from(`${registryCredentials.username}:${registryCredentials.password}`).toString("base64")}`;
    expect((await get(registry, "/v2/", basic)).status).toBe(200);
  });

  it("should take an artifact pushed by oras and serve its manifest by tag", async () => {
    await pushDemo(registry);
    const basic = `Basic ${Buffer.from(`${registryCredentials.username}:${registryCredentials.password}`).toString("base64")}`;
    expect((await get(registry, "/v2/apps/demo/manifests/1.0.0", basic)).status).toBe(200);
  });
});

describe("Given the distribution registry started with the token auth flow", () => {
  const binPath = inject("capstanBinPath");
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ binPath, tls: true, auth: "token" });
  });
  afterAll(async () => registry?.close());

  it("should answer anonymous requests with a Bearer challenge naming the token service", async () => {
    const { status, auth } = await get(registry, "/v2/apps/demo/manifests/1.0.0");
    expect(status).toBe(401);
    expect(auth).toBe(
      `Bearer realm="${registry.token?.realm}",service="capstan-registry",scope="repository:apps/demo:pull"`,
    );
  });

  it("should take a push by oras through a token and refuse a forged one", async () => {
    const before = registry.token?.requests.length ?? 0;
    await pushDemo(registry);
    const asked = registry.token?.requests.slice(before) ?? [];
    expect(asked.some((r) => r.user === "capstan" && r.outcome === 200 && r.scopes.join(" ").includes("push"))).toBe(
      true,
    );
    const forged = `${Buffer.from('{"alg":"none"}').toString("base64url")}.e30.`;
    expect((await get(registry, "/v2/apps/demo/manifests/1.0.0", `Bearer ${forged}`)).status).toBe(401);
  });
});
