// The OCIRepository reconciler against the real kube-apiserver and the real CNCF distribution registry (TLS, htpasswd
// auth), with artifacts pushed by the real oras CLI in the media types `flux push artifact` uses.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { orasPush, registryCredentials, startRegistry, startTestProxy, type TestRegistry } from "@capstan/gitserver";
import { getCondition } from "@capstan/runtime";
import { c as createTar } from "tar";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness, sha256 } from "../testing/gitrepository-harness.js";
import { OciObjects } from "../testing/oci-objects.js";

// What `flux push artifact` writes: a Flux config media type and one tar+gzip content layer.
const fluxContent = "application/vnd.cncf.flux.content.v1.tar+gzip";
const fluxConfig = "application/vnd.cncf.flux.config.v1+json";
const maxSize = 64 * 1024;

const binPath = inject("capstanBinPath");
let h: GitRepositoryHarness;
let registry: TestRegistry;

async function tarball(name: string, files: Record<string, string>): Promise<Buffer> {
  const dir = join(h.work, `src-${name}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const out = join(h.work, `${name}.tar.gz`);
  await createTar({ gzip: true, cwd: dir, file: out, portable: true }, Object.keys(files));
  return readFile(out);
}

async function push(reference: string, content: Buffer, annotations: Record<string, string> = {}): Promise<string> {
  return orasPush({
    binPath,
    registry,
    reference,
    artifactType: fluxConfig,
    files: [{ name: "manifests.tar.gz", content, mediaType: fluxContent }],
    annotations: {
      "org.opencontainers.image.source": "https://github.com/example/app",
      "org.opencontainers.image.revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
      ...annotations,
    },
  });
}

let oci: OciObjects;
const get = (name: string) => oci.get(name);
const create = (name: string, spec: Record<string, unknown>) => oci.create(name, spec);
const readyAt = (name: string, revision: string) => oci.readyAt(name, revision);
const failing = (name: string, reason: string) => oci.failing(name, reason);
const requestReconcile = (name: string, token: string) => oci.requestReconcile(name, token);

beforeAll(async () => {
  registry = await startRegistry({ binPath, tls: true, auth: true });
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "ocirepo",
    artifactMaxSize: maxSize,
    secrets: {
      "registry-ca": { "ca.crt": registry.pki?.caCert.toString() ?? "" },
      "wrong-auth": {
        ".dockerconfigjson": registry.dockerConfigJson({ username: "capstan", password: "not-the-password" }),
      },
    },
  });
  oci = new OciObjects(h, { secretRef: { name: "registry-auth" }, certSecretRef: { name: "registry-ca" } });
  // Pull secrets are typed kubernetes.io/dockerconfigjson, as `kubectl create secret docker-registry` makes them.
  await h.client.create({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name: "registry-auth", namespace: h.ns.name },
    stringData: { ".dockerconfigjson": registry.dockerConfigJson() },
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await registry?.close();
});

describe("OCIRepository reconciler", () => {
  it("Given an artifact pushed with oras / should store it with Flux's revision, digest and metadata, and serve it", async () => {
    const content = await tarball("v1", {
      "deploy/app.yaml": "v: 1\n",
      ".sourceignore": "ignored/\n",
      "ignored/x": "x",
    });
    const digest = await push("apps/web:1.0.0", content);
    await create("web", { url: `oci://${registry.host}/apps/web`, ref: { tag: "1.0.0" } });
    const obj = await readyAt("web", `1.0.0@${digest}`);
    const artifact = obj.status?.artifact;
    expect(artifact?.path).toBe(`ocirepository/${h.ns.name}/web/${digest.slice(7)}.tar.gz`);
    expect(obj.status?.url).toBe(artifact?.url);
    expect(artifact?.metadata).toMatchObject({
      "org.opencontainers.image.source": "https://github.com/example/app",
      "org.opencontainers.image.revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
    });
    expect(getCondition(obj, "Ready")?.message).toBe(`stored artifact for digest '1.0.0@${digest}'`);
    expect(getCondition(obj, "ArtifactInStorage")).toMatchObject({ status: "True", reason: "Succeeded" });
    const bytes = await h.download(artifact?.url ?? "");
    expect(sha256(bytes)).toBe(artifact?.digest);
    const out = await h.unpack(bytes, "extract-web");
    expect(await readFile(join(out, "deploy", "app.yaml"), "utf8")).toBe("v: 1\n");
    expect(await readdir(out)).not.toContain("ignored"); // the artifact's own .sourceignore applies
    expect(JSON.stringify(obj.status)).not.toContain(registryCredentials.password);
  });

  it("Given layerSelector operation copy / should store the layer's bytes unchanged", async () => {
    const content = await tarball("copy", { "a.yaml": "a: 1\n" });
    const digest = await push("apps/copy:1.0.0", content);
    await create("copy", {
      url: `oci://${registry.host}/apps/copy`,
      ref: { tag: "1.0.0" },
      layerSelector: { mediaType: fluxContent, operation: "copy" },
    });
    const obj = await readyAt("copy", `1.0.0@${digest}`);
    expect(obj.status?.artifact?.digest).toBe(sha256(content));
    expect(obj.status?.observedLayerSelector).toEqual({ mediaType: fluxContent, operation: "copy" });
    expect(await h.download(obj.status?.artifact?.url ?? "")).toEqual(content);
  });

  it("Given a semver range / should follow a new matching tag, while a digest-pinned ref ignores it", async () => {
    const d1 = await push("apps/semver:1.0.0", await tarball("s1", { "app.yaml": "v: 1\n" }));
    await push("apps/semver:2.0.0", await tarball("s2", { "app.yaml": "v: 2\n" }));
    await create("ranged", { url: `oci://${registry.host}/apps/semver`, ref: { semver: ">=1.0.0 <2.0.0" } });
    await create("pinned", { url: `oci://${registry.host}/apps/semver`, ref: { digest: d1 } });
    await readyAt("ranged", `1.0.0@${d1}`);
    await readyAt("pinned", d1);

    const d11 = await push("apps/semver:1.1.0", await tarball("s11", { "app.yaml": "v: 1.1\n" }));
    await requestReconcile("ranged", "follow");
    await requestReconcile("pinned", "follow");
    const ranged = await readyAt("ranged", `1.1.0@${d11}`);
    const out = await h.unpack(await h.download(ranged.status?.artifact?.url ?? ""), "extract-ranged");
    expect(await readFile(join(out, "app.yaml"), "utf8")).toBe("v: 1.1\n");
    await eventually(async () =>
      (await get("pinned"))?.status?.lastHandledReconcileAt === "follow" ? true : undefined,
    );
    expect((await get("pinned"))?.status?.artifact?.revision).toBe(d1);
  });

  it.each([
    [
      "an unknown repository",
      "missing",
      { url: "apps/does-not-exist", ref: { tag: "1.0.0" } },
      "OCIArtifactPullFailed",
      /not found/,
    ],
    [
      "wrong credentials",
      "wrongauth",
      { url: "apps/web", secretRef: { name: "wrong-auth" } },
      "AuthenticationFailed",
      /refused the credentials/,
    ],
    [
      "no credentials",
      "anonymous",
      { url: "apps/web", secretRef: undefined },
      "AuthenticationFailed",
      /authentication to .* required/,
    ],
    [
      "an unknown semver range",
      "nosemver",
      { url: "apps/semver", ref: { semver: ">=9.0.0" } },
      "ReadOperationFailed",
      /no match found/,
    ],
  ] as const)("Given %s / should report it on Ready and FetchFailed", async (_, name, spec, reason, message) => {
    await create(name, { ref: { tag: "1.0.0" }, ...spec, url: `oci://${registry.host}/${spec.url}` });
    const obj = await failing(name, reason);
    expect(getCondition(obj, "FetchFailed")).toMatchObject({ status: "True", reason });
    expect(getCondition(obj, "Ready")?.message).toMatch(message);
    expect(JSON.stringify(obj.status)).not.toContain("not-the-password");
  });

  it("Given spec.proxySecretRef / should pull through the proxy, and report a refused proxy login without its password", async () => {
    const proxyPassword = "oci-proxy-pass-do-not-leak";
    const proxy = await startTestProxy({ username: "oci-proxy", password: proxyPassword });
    try {
      for (const [name, password] of [
        ["oci-proxy", proxyPassword],
        ["oci-bad-proxy", "wrong-oci-proxy-pass-do-not-leak"],
      ] as const) {
        await h.client.create({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name, namespace: h.ns.name },
          stringData: { address: proxy.url, username: "oci-proxy", password },
        });
      }
      const digest = await push("apps/proxied:1.0.0", await tarball("proxied", { "app.yaml": "v: proxied\n" }));
      const url = `oci://${registry.host}/apps/proxied`;
      await create("proxied", { url, ref: { tag: "1.0.0" }, proxySecretRef: { name: "oci-proxy" } });
      await readyAt("proxied", `1.0.0@${digest}`);
      // An explicit proxy carries every request, loopback included (only the environment's proxy spares loopback).
      expect(proxy.requests).toContainEqual({ line: `CONNECT ${registry.host}`, allowed: true });

      await create("bad-proxied", { url, ref: { tag: "1.0.0" }, proxySecretRef: { name: "oci-bad-proxy" } });
      const failed = await failing("bad-proxied", "OCIArtifactPullFailed");
      expect(proxy.requests.some((r) => !r.allowed)).toBe(true);
      expect(JSON.stringify(failed)).not.toContain("wrong-oci-proxy-pass-do-not-leak");

      // A tenant's Secret with no address, no URL, or a scheme no proxy here speaks: refused, the value not echoed.
      for (const [name, address, why] of [
        ["proxy-none", undefined, "'address' is required"],
        ["proxy-garbage", "http://[::1:secret-ish", "'address' is not a URL"],
        ["proxy-socks", "socks5://127.0.0.1:1080", "'address' must be an http or https URL"],
        ["proxy-file", "file:///etc/passwd", "'address' must be an http or https URL"],
      ] as const) {
        await h.client.create({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name, namespace: h.ns.name },
          stringData: address === undefined ? { username: "x" } : { address },
        });
        await create(name, { url, ref: { tag: "1.0.0" }, proxySecretRef: { name } });
        const invalid = await failing(name, "AuthenticationFailed");
        expect(getCondition(invalid, "Ready")?.message).toBe(`invalid proxy Secret '${name}': ${why}`);
      }
    } finally {
      await proxy.close();
    }
  });

  it.each([
    ["provider aws", "aws", { provider: "aws" }, "InvalidProviderConfiguration", "Stalled"],
    ["spec.verify", "verify", { verify: { provider: "cosign" } }, "VerificationError", "Stalled"],
  ] as const)("Given %s / should refuse it as not supported and stall", async (_, name, spec, reason, stalled) => {
    await create(name, { url: `oci://${registry.host}/apps/web`, ref: { tag: "1.0.0" }, ...spec });
    const obj = await failing(name, reason);
    expect(getCondition(obj, "Ready")?.message).toMatch(/not supported by Capstan/);
    expect(getCondition(obj, stalled)?.status).toBe("True");
  });

  it.each([
    [
      "a layer that is not a tarball",
      "nottar",
      async () => Buffer.from("just text, not a tarball\n"),
      "OCIArtifactLayerOperationFailed",
      /not a gzip-compressed tarball/,
    ],
    [
      "a layer over the size cap",
      "toobig",
      async () => randomBytes(maxSize + 1024),
      "OCIArtifactLayerOperationFailed",
      /over the limit/,
    ],
  ] as const)(
    "Given %s pushed over a good tag / should fail clearly and keep serving the previous artifact",
    async (_, name, bad, reason, message) => {
      const good = await push(`apps/${name}:stable`, await tarball(`${name}-good`, { "ok.yaml": "ok: 1\n" }));
      await create(name, { url: `oci://${registry.host}/apps/${name}`, ref: { tag: "stable" } });
      const before = await readyAt(name, `stable@${good}`);
      await push(`apps/${name}:stable`, await bad());
      await requestReconcile(name, "bad");
      const obj = await failing(name, reason);
      expect(getCondition(obj, "Ready")?.message).toMatch(message);
      expect(obj.status?.artifact).toEqual(before.status?.artifact);
      expect(sha256(await h.download(obj.status?.artifact?.url ?? ""))).toBe(before.status?.artifact?.digest);
    },
  );

  it("Given a registry that serves a layer whose bytes do not match its digest / should refuse it as a digest mismatch", async () => {
    const content = await tarball("mismatch", { "m.yaml": "m: 1\n" });
    await push("apps/mismatch:1.0.0", content);
    const hex = createHash("sha256").update(content).digest("hex");
    const blob = join(registry.dataDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    const corrupt = Buffer.from(content);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0xff;
    await writeFile(blob, corrupt);
    await create("mismatch", { url: `oci://${registry.host}/apps/mismatch`, ref: { tag: "1.0.0" } });
    const obj = await failing("mismatch", "OCIArtifactPullFailed");
    expect(getCondition(obj, "Ready")?.message).toMatch(/layer digest mismatch/);
    expect(obj.status?.artifact).toBeUndefined();
  });
});
