// The OCIRepository reconciler against the real CNCF distribution registry in `auth: token` mode: every request meets
// `WWW-Authenticate: Bearer realm=...` and the token service of the test harness (tools/gitserver token-server.ts)
// signs the JWTs the registry trusts. Artifacts are pushed by the real oras through the same token flow. The token
// service also plays the hostile peer (stalls, trickles, floods, bad tokens) for repositories named hostile-*.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import {
  helmPush,
  orasPush,
  registryCredentials,
  startRegistry,
  startTokenServer,
  type TestRegistry,
  type TokenServer,
} from "@capstan/gitserver";
import { getCondition } from "@capstan/runtime";
import { c as createTar } from "tar";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness } from "../testing/gitrepository-harness.js";
import { OciObjects } from "../testing/oci-objects.js";

const binPath = inject("capstanBinPath");
let h: GitRepositoryHarness;
let oci: OciObjects;
let registry: TestRegistry;
/** The same PKI, a token realm on `localhost` instead of the registry's 127.0.0.1: another host. */
let otherHost: TestRegistry;
/** An https registry whose challenge names a plain-http realm. */
let plainRealm: TestRegistry;
let plainTokens: TokenServer;
/** An https registry whose challenge names another loopback address. */
let internalRealm: TestRegistry;

async function pushTo(target: TestRegistry, reference: string, text: string): Promise<string> {
  const dir = join(h.work, `src-${reference.replace(/[/:]/g, "-")}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "app.yaml"), text);
  const file = `${dir}.tar.gz`;
  await createTar({ gzip: true, cwd: dir, file, portable: true }, ["app.yaml"]);
  return orasPush({
    binPath,
    registry: target,
    reference,
    artifactType: "application/vnd.cncf.flux.config.v1+json",
    files: [
      {
        name: "manifests.tar.gz",
        content: await readFile(file),
        mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip",
      },
    ],
  });
}

const pullSecret = async (name: string, json: string) =>
  h.client.create({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name, namespace: h.ns.name },
    stringData: { ".dockerconfigjson": json },
  });

/** What the registry served for one repository since `from` (its access log). */
const served = (r: TestRegistry, repository: string, from: number) =>
  r.accessLog.slice(from).filter((l) => l.includes(` /v2/${repository}/`));
const tokensFor = (t: TokenServer | undefined, repository: string, from = 0) =>
  (t?.requests ?? []).slice(from).filter((r) => r.scopes.some((s) => s.startsWith(`repository:${repository}:`)));

beforeAll(async () => {
  registry = await startRegistry({ binPath, tls: true, auth: "token", accessLog: true });
  const pki = registry.pki;
  otherHost = await startRegistry({
    binPath,
    tls: pki ?? true,
    auth: "token",
    tokenRealm: (realm) => realm.replace("127.0.0.1", "localhost"),
  });
  plainTokens = await startTokenServer({ accounts: [registryCredentials] });
  plainRealm = await startRegistry({ binPath, tls: pki ?? true, auth: "token", tokenRealm: plainTokens.realm });
  internalRealm = await startRegistry({
    binPath,
    tls: pki ?? true,
    auth: "token",
    tokenRealm: (realm) => realm.replace("127.0.0.1", "127.0.0.2"),
  });
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "ocitoken",
    secrets: { "registry-ca": { "ca.crt": pki?.caCert.toString() ?? "" } },
  });
  oci = new OciObjects(h, { certSecretRef: { name: "registry-ca" }, ref: { tag: "1.0.0" } });
  await pullSecret("registry-auth", registry.dockerConfigJson());
  await pullSecret("wrong-auth", registry.dockerConfigJson({ username: "capstan", password: "not-the-password" }));
  await pullSecret("other-host-auth", otherHost.dockerConfigJson());
  await pullSecret("plain-realm-auth", plainRealm.dockerConfigJson());
  await pullSecret("internal-realm-auth", internalRealm.dockerConfigJson());
}, 120_000);

afterAll(async () => {
  await h?.stop();
  for (const r of [registry, otherHost, plainRealm, internalRealm]) await r?.close();
  await plainTokens?.close();
});

describe("OCIRepository against a registry with the Bearer token flow", () => {
  it("Given a dockerconfigjson secretRef / should pull via challenge → token → manifest, and reuse the token on the next reconcile", async () => {
    const digest = await pushTo(registry, "apps/web:1.0.0", "v: 1\n");
    await oci.create("web", { url: `oci://${registry.host}/apps/web`, secretRef: { name: "registry-auth" } });
    const obj = await oci.readyAt("web", `1.0.0@${digest}`);
    const asked = tokensFor(registry.token, "apps/web");
    expect(asked).toContainEqual(
      expect.objectContaining({
        user: "capstan",
        withPassword: true,
        outcome: 200,
        scopes: ["repository:apps/web:pull"],
      }),
    );
    expect(JSON.stringify(obj.status)).not.toContain(registryCredentials.password);

    // An unchanged tag on the next reconcile: the token is still valid (expires_in 300 s), so one manifest HEAD,
    // no token request, no blob.
    const logFrom = registry.accessLog.length;
    const tokensFrom = registry.token?.requests.length ?? 0;
    await oci.reconciled("web", "again");
    const again = await eventually(async () => {
      const lines = served(registry, "apps/web", logFrom);
      return lines.length > 0 ? lines : undefined;
    });
    expect(again).toEqual(['"HEAD /v2/apps/web/manifests/1.0.0 HTTP/1.1" 200']);
    expect(tokensFor(registry.token, "apps/web", tokensFrom)).toEqual([]);
    expect((await oci.get("web"))?.status?.artifact?.revision).toBe(`1.0.0@${digest}`);
  });

  it("Given wrong credentials / should report the refusal as AuthenticationFailed, no secret in it", async () => {
    await oci.create("wrong", { url: `oci://${registry.host}/apps/web`, secretRef: { name: "wrong-auth" } });
    const obj = await oci.failing("wrong", "AuthenticationFailed");
    expect(getCondition(obj, "Ready")?.message).toMatch(/token service refused the credentials \(401\)/);
    expect(getCondition(obj, "FetchFailed")).toMatchObject({ status: "True", reason: "AuthenticationFailed" });
    expect(JSON.stringify(obj.status)).not.toContain("not-the-password");
  });

  it("Given a token realm on another host name that resolves to loopback / should not connect to it", async () => {
    // Docker Hub's realm is on another host (auth.docker.io), so another host is allowed (client.test.ts shows the
    // credentials going there); but a name resolving to a loopback or metadata address is refused as oras-go does.
    await oci.create("far", { url: `oci://${otherHost.host}/apps/far`, secretRef: { name: "other-host-auth" } });
    const obj = await oci.failing("far", "AuthenticationFailed");
    expect(getCondition(obj, "Ready")?.message).toMatch(/token realm host 'localhost' resolves to (127\.0\.0\.1|::1)/);
    expect(tokensFor(otherHost.token, "apps/far")).toEqual([]);
  });

  it.each([
    ["a plain-http realm for an https registry", "plainrealm", () => plainRealm, "plain-realm-auth", /over https only/],
    [
      "a realm on another internal address",
      "internalrealm",
      () => internalRealm,
      "internal-realm-auth",
      /metadata address/,
    ],
  ] as const)("Given %s / should refuse it before sending anything there", async (_, name, target, secret, message) => {
    await oci.create(name, { url: `oci://${target().host}/apps/x`, secretRef: { name: secret } });
    const obj = await oci.failing(name, "AuthenticationFailed");
    expect(getCondition(obj, "Ready")?.message).toMatch(message);
    expect(plainTokens.requests).toEqual([]);
    expect(tokensFor(internalRealm.token, "apps/x")).toEqual([]);
  });
});

/** Packages a one-ConfigMap chart with the real `helm package` and pushes it with the real `helm push`. */
async function pushChart(target: TestRegistry, name: string, version: string): Promise<void> {
  const helm = (await ensureBinaries()).bin.helm;
  const dir = join(h.work, `chart-${name}-${version}`);
  await mkdir(join(dir, "src", "templates"), { recursive: true });
  await writeFile(join(dir, "src", "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  await writeFile(
    join(dir, "src", "templates", "cm.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
  );
  const { stdout } = await promisify(execFile)(helm, ["package", join(dir, "src"), "--destination", dir], {
    env: { PATH: "/usr/bin:/bin", HOME: dir },
  });
  await helmPush({ helm, registry: target, chartFile: stdout.trim().split(": ").at(-1) ?? "", repository: "charts" });
}

describe("HelmChart from an OCI HelmRepository behind the token flow", () => {
  it("Given a version range and an unchanged chart / should ask the token service once over two reconciles (the cache OCIRepository uses)", async () => {
    await pushChart(registry, "tokenchart", "1.0.0");
    const tokensFrom = registry.token?.requests.length ?? 0;
    const src = { apiVersion: "source.toolkit.fluxcd.io/v1", namespace: h.ns.name };
    await h.client.create({
      ...src,
      kind: "HelmRepository",
      metadata: { name: "charts", namespace: h.ns.name },
      spec: {
        type: "oci",
        url: `oci://${registry.host}/charts`,
        secretRef: { name: "registry-auth" },
        certSecretRef: { name: "registry-ca" },
      },
    });
    await h.client.create({
      ...src,
      kind: "HelmChart",
      metadata: { name: "tokenchart", namespace: h.ns.name },
      spec: {
        chart: "tokenchart",
        version: "1.x",
        sourceRef: { kind: "HelmRepository", name: "charts" },
        interval: "10m",
      },
    });
    type Chart = { status?: { artifact?: { revision: string }; lastHandledReconcileAt?: string } } & Parameters<
      typeof getCondition
    >[0];
    const get = () => h.client.get<Chart>({ ...src, kind: "HelmChart", name: "tokenchart" });
    await eventually(
      async () => {
        const o = await get();
        return o && getCondition(o, "Ready")?.status === "True" && o.status?.artifact?.revision === "1.0.0";
      },
      { what: "tokenchart Ready at 1.0.0" },
    );
    expect(tokensFor(registry.token, "charts/tokenchart", tokensFrom)).toHaveLength(1);

    // The version range makes every reconcile list the tags; within the token's lifetime the cached token goes with
    // the first request: no 401, no second token request.
    const logFrom = registry.accessLog.length;
    await h.client.mergePatch(
      { ...src, kind: "HelmChart", name: "tokenchart" },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "again" } } },
    );
    await eventually(async () => (await get())?.status?.lastHandledReconcileAt === "again", {
      what: "tokenchart handled again",
    });
    expect(served(registry, "charts/tokenchart", logFrom)).toEqual([
      '"GET /v2/charts/tokenchart/tags/list?n=1000 HTTP/1.1" 200',
    ]);
    expect(tokensFor(registry.token, "charts/tokenchart", tokensFrom)).toHaveLength(1);
    expect((await get())?.status?.artifact?.revision).toBe("1.0.0");
  });
});

describe("OCIRepository against a hostile token service", () => {
  it.each([
    ["stalls", "hostile-stall", /request to token service 127\.0\.0\.1:\d+ timed out \(spec\.timeout\)/],
    ["answers one byte at a time", "hostile-slow", /request to token service 127\.0\.0\.1:\d+ timed out/],
    ["sends an endless body", "hostile-huge", /token response from 127\.0\.0\.1:\d+ is larger than 131072 bytes/],
    ["sends a 256 KiB token", "hostile-hugetoken", /token response from 127\.0\.0\.1:\d+ is larger than 131072 bytes/],
    ["sends a token with a line break", "hostile-badtoken", /returned a token that is not a valid header value/],
  ] as const)(
    "Given a realm that %s / should give up within bounds with a clear condition",
    async (_, repo, message) => {
      const name = repo.replace("hostile-", "h-");
      await oci.create(name, {
        url: `oci://${registry.host}/${repo}/app`,
        secretRef: { name: "registry-auth" },
        timeout: "3s",
      });
      const obj = await oci.failing(name, "AuthenticationFailed");
      expect(getCondition(obj, "Ready")?.message).toMatch(message);
      expect(JSON.stringify(obj.status)).not.toContain(registryCredentials.password);
      // The controller let go of the connection: nothing is left open to the hostile peer.
      await eventually(async () =>
        tokensFor(registry.token, `${repo}/app`).every((r) => r.closed) ? true : undefined,
      );
    },
  );

  it("Given a realm that stalls for one object / should keep reconciling the others meanwhile", async () => {
    const digest = await pushTo(registry, "apps/meanwhile:1.0.0", "m: 1\n");
    await oci.create("stalled", {
      url: `oci://${registry.host}/hostile-stall/other`,
      secretRef: { name: "registry-auth" },
      timeout: "60s",
    });
    await eventually(async () => (tokensFor(registry.token, "hostile-stall/other").length > 0 ? true : undefined));
    await oci.create("meanwhile", {
      url: `oci://${registry.host}/apps/meanwhile`,
      secretRef: { name: "registry-auth" },
    });
    await oci.readyAt("meanwhile", `1.0.0@${digest}`);
    expect(tokensFor(registry.token, "hostile-stall/other").map((r) => r.closed)).toEqual([false]);
    registry.token?.hangUp();
    const obj = await oci.failing("stalled", "AuthenticationFailed");
    expect(getCondition(obj, "Ready")?.message).toMatch(/cannot reach token service/);
  });
});
