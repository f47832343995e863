// Sealed Secrets end to end, with the real thing: the sealed-secrets controller and kubeseal v0.27.1, built from
// their Go module by `bash tools/cluster/build-binaries.sh sealed-secrets` (optional: skipped until built). The
// controller runs out of cluster against the local control plane with a token of its own ServiceAccount; kubeseal
// seals a Secret with the controller's certificate; the SealedSecret is committed; a Kustomization applies it and
// waits on its Synced condition (healthCheckExprs, as Flux documents it); the controller unseals it into a Secret.
//
// The controller only knows in-cluster configuration (rest.InClusterConfig: KUBERNETES_SERVICE_HOST/PORT and the
// files under /var/run/secrets/kubernetes.io/serviceaccount). It runs in a mount namespace of its own (unshare) with a
// tmpfs over /run holding the token, the CA and its namespace, so nothing is written outside temp dirs.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { cachedTool, freePort, ManagedProcess } from "@capstan/cluster";
import { eventually, loadKubeConfig, testKubeconfigPath } from "@capstan/cluster/testing";
import { serviceAccountKubeconfig } from "@capstan/devenv/credentials";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";

const run = promisify(execFile);
const controllerBinary = await cachedTool("sealed-secrets", "sealed-secrets-controller");
const kubeseal = await cachedTool("sealed-secrets", "kubeseal");

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

describe.skipIf(!controllerBinary || !kubeseal)(
  "Given the sealed-secrets controller and kubeseal v0.27.1",
  {
    timeout: 300_000,
  },
  () => {
    const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
    const password = `sealed-${randomBytes(12).toString("hex")}`;
    let env: GitOpsEnv;
    let controller: ManagedProcess | undefined;
    let dir: string;
    let certUrl: string;

    beforeAll(async () => {
      env = await startGitOpsEnv({
        kubeconfig,
        prefix: "e2e-sealed",
        only: ["source-controller", "kustomize-controller"],
      });
      dir = mkdtempSync(join(tmpdir(), "capstan-sealed-"));
      // The SealedSecret CRD of the same release, which build-binaries.sh puts beside the binaries.
      const crd = parse(readFileSync(join(dirname(controllerBinary as string), "sealedsecrets-crd.yaml"), "utf8"));
      await env.client.apply(crd as KubeObject, { fieldManager: "capstan-e2e" });
      await eventually(
        async () => !!(await env.client.resourceFor("bitnami.com/v1alpha1", "SealedSecret").catch(() => undefined)),
        {
          timeoutMs: 30_000,
          what: "the SealedSecret CRD served",
        },
      );

      // Its own ServiceAccount, as its chart would create; what it may do is not under test here (cluster-admin).
      const sa = "sealed-secrets-controller";
      await env.client.apply(
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: env.namespace } },
        { fieldManager: "capstan-e2e" },
      );
      await env.client.apply(
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: `${env.namespace}-sealed-secrets` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
          subjects: [{ kind: "ServiceAccount", name: sa, namespace: env.namespace }],
        } as KubeObject,
        { fieldManager: "capstan-e2e" },
      );
      const kc = loadKubeConfig(kubeconfig);
      const saConfig = parse(
        readFileSync(await serviceAccountKubeconfig(kc, env.namespace, sa, join(dir, "sa.kubeconfig")), "utf8"),
      ) as {
        clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
        users: { user: { token: string } }[];
      };
      const server = new URL(saConfig.clusters[0]?.cluster.server ?? "");
      const files = join(dir, "serviceaccount");
      mkdirSync(files, { recursive: true });
      writeFileSync(join(files, "token"), saConfig.users[0]?.user.token ?? "", { mode: 0o600 });
      writeFileSync(
        join(files, "ca.crt"),
        Buffer.from(saConfig.clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64"),
      );
      writeFileSync(join(files, "namespace"), env.namespace);

      const listen = `127.0.0.1:${await freePort()}`;
      const metrics = `127.0.0.1:${await freePort()}`;
      certUrl = `http://${listen}/v1/cert.pem`;
      const saDir = "/run/secrets/kubernetes.io/serviceaccount";
      controller = new ManagedProcess({
        name: "sealed-secrets-controller",
        command: "unshare",
        args: [
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          `mount -t tmpfs capstan-sa /run && mkdir -p ${saDir} && cp "$0"/* ${saDir}/ && exec "$@"`,
          files,
          controllerBinary as string,
          `--listen-addr=${listen}`,
          `--listen-metrics-addr=${metrics}`,
          "--all-namespaces=false",
          "--key-size=2048",
          "--key-renew-period=0",
        ],
        logFile: join(dir, "controller.log"),
        env: {
          PATH: "/usr/bin:/bin",
          KUBERNETES_SERVICE_HOST: server.hostname,
          KUBERNETES_SERVICE_PORT: server.port,
          POD_NAMESPACE: env.namespace,
        },
      });
      controller.start();
      await eventually(async () => (await httpGet(certUrl).catch(() => ({ status: 0 }))).status === 200, {
        timeoutMs: 120_000,
        what: () => `the sealed-secrets controller's certificate\n${controller?.logTail(20)}`,
      });
      await env.gitRepository("app", { interval: "2s" });
    }, 300_000);

    afterAll(async () => {
      await env?.client
        .delete({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          name: `${env.namespace}-sealed-secrets`,
        })
        .catch(() => undefined);
      await env?.close();
      await controller?.stop(10_000);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it("should apply a SealedSecret sealed by kubeseal and committed, wait on Synced, and the Secret appears", async () => {
      const secret = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: ${env.namespace}
stringData:
  password: ${password}
`;
      writeFileSync(join(dir, "secret.yaml"), secret);
      const { stdout: sealed } = await run(
        kubeseal as string,
        ["--cert", certUrl, "--format", "yaml", "--secret-file", join(dir, "secret.yaml")],
        { env: { PATH: "/usr/bin:/bin", HOME: dir, KUBECONFIG: kubeconfig } },
      );
      rmSync(join(dir, "secret.yaml"));
      expect(sealed).toContain("kind: SealedSecret");
      expect(sealed).not.toContain(password);
      expect(sealed).not.toContain(Buffer.from(password).toString("base64"));

      const sha = await env.repo.commit({
        "sealed/kustomization.yaml": "resources: [db-sealed.yaml]\n",
        "sealed/db-sealed.yaml": sealed,
      });
      await env.kustomization("sealed", {
        path: "./sealed",
        wait: true,
        timeout: "90s",
        // Flux's documented health check for Sealed Secrets: Ready only once the controller has unsealed it.
        healthCheckExprs: [
          {
            apiVersion: "bitnami.com/v1alpha1",
            kind: "SealedSecret",
            failed: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')",
            current: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')",
          },
        ],
      });
      const k = await env.ready<KubeObject & { status?: { lastAppliedRevision?: string } }>(
        "Kustomization",
        "sealed",
        150_000,
      );
      expect(k.status?.lastAppliedRevision).toBe(`main@sha1:${sha}`);
      const ss = await env.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        "bitnami.com/v1alpha1",
        "SealedSecret",
        "db",
      );
      expect(ss?.status?.conditions?.find((c) => c.type === "Synced")?.status).toBe("True");
      const unsealed = await env.get<KubeObject & { data?: Record<string, string> }>("v1", "Secret", "db");
      expect(Buffer.from(unsealed?.data?.password ?? "", "base64").toString("utf8")).toBe(password);
      // The repository holds only the sealed value.
      const { stdout: history } = await run("git", ["-C", env.repo.bare, "log", "-p", "--all"]);
      expect(history).toContain("encryptedData");
      expect(history).not.toContain(password);
    });
  },
);
