// End-to-end: manifests shipped as an OCI artifact. The real distribution registry (TLS, htpasswd auth) on loopback,
// artifacts pushed by the real oras in `flux push artifact`'s media types, and source-controller and
// kustomize-controller as processes (args from their rendered charts): an OCIRepository with a semver range and a
// Kustomization built from it apply the manifests, and a new matching tag reaches the cluster without Git.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import { orasPush, startRegistry, type TestRegistry } from "@capstan/gitserver";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

describe("Given manifests pushed to a registry as an OCI artifact", { timeout: 180_000 }, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  const binPath = inject("capstanBinPath");
  let env: GitOpsEnv;
  let registry: TestRegistry;
  let work: string;

  async function push(tag: string, color: string): Promise<string> {
    const dir = join(work, tag);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "config.yaml"),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  color: ${color}\n`,
    );
    await promisify(execFile)("tar", ["-czf", `${dir}.tar.gz`, "-C", dir, "config.yaml"]);
    return orasPush({
      binPath,
      registry,
      reference: `manifests/web:${tag}`,
      artifactType: "application/vnd.cncf.flux.config.v1+json",
      files: [
        {
          name: "web.tar.gz",
          content: await readFile(`${dir}.tar.gz`),
          mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip",
        },
      ],
      annotations: { "org.opencontainers.image.revision": `v${tag}@sha1:0123456789abcdef0123456789abcdef01234567` },
    });
  }

  beforeAll(async () => {
    registry = await startRegistry({ binPath, tls: true, auth: true });
    env = await startGitOpsEnv({ kubeconfig, prefix: "e2e-oci", only: ["source-controller", "kustomize-controller"] });
    work = await mkdtemp(join(tmpdir(), "capstan-e2e-oci-"));
    const secret = (name: string, type: string, stringData: Record<string, string>) =>
      env.client.create({
        apiVersion: "v1",
        kind: "Secret",
        type,
        metadata: { name, namespace: env.namespace },
        stringData,
      });
    await secret("registry-auth", "kubernetes.io/dockerconfigjson", {
      ".dockerconfigjson": registry.dockerConfigJson(),
    });
    await secret("registry-ca", "Opaque", { "ca.crt": registry.pki?.caCert.toString() ?? "" });
  }, 180_000);
  afterAll(async () => {
    await env?.close();
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  }, 120_000);

  const color = async () => (await env.get<ConfigMap>("v1", "ConfigMap", "web-config"))?.data?.color;

  it("should apply them through an OCIRepository and a Kustomization, and follow a new tag in the semver range", async () => {
    const d1 = await push("1.0.0", "blue");
    await env.client.create({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "OCIRepository",
      metadata: { name: "web", namespace: env.namespace },
      spec: {
        url: `oci://${registry.host}/manifests/web`,
        // Polling every 2s stands in for a registry webhook.
        interval: "2s",
        ref: { semver: "1.x" },
        secretRef: { name: "registry-auth" },
        certSecretRef: { name: "registry-ca" },
      },
    });
    await env.kustomization("web", {
      path: "./",
      sourceRef: { kind: "OCIRepository", name: "web" },
      targetNamespace: env.namespace,
    });
    const ks = await env.ready<
      KubeObject & { status: { lastAppliedRevision?: string; lastAppliedOriginRevision?: string } }
    >("Kustomization", "web", 90_000);
    expect(ks.status.lastAppliedRevision).toBe(`1.0.0@${d1}`);
    expect(ks.status.lastAppliedOriginRevision).toBe("v1.0.0@sha1:0123456789abcdef0123456789abcdef01234567");
    expect(await color()).toBe("blue");

    const d2 = await push("1.1.0", "green");
    await eventually(async () => ((await color()) === "green" ? true : undefined), {
      timeoutMs: 60_000,
      what: "color green",
    });
    await eventually(
      async () => {
        const k = await env.get<KubeObject & { status: { lastAppliedRevision?: string } }>(
          "kustomize.toolkit.fluxcd.io/v1",
          "Kustomization",
          "web",
        );
        return k?.status.lastAppliedRevision === `1.1.0@${d2}` ? true : undefined;
      },
      { what: "lastAppliedRevision 1.1.0" },
    );
  });
});
