// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the postBuild substitution syntax under test
// End-to-end, secrets in GitOps (README, "Secrets"), with source- and kustomize-controller as processes started as
// their charts start them (a token of the chart's ServiceAccount, the chart's RBAC), the real git server, the pinned
// age-keygen and sops run as the README tells a user:
//  - one repository, overlays dev and prod, each with its own database password encrypted for its own age key by a
//    `.sops.yaml` creation rule; a Deployment consumes it; both Kustomizations Ready, the Secrets hold the right
//    values; `git grep` over the whole history finds no plaintext;
//  - rotation through Git (a new encrypted value committed) and without Git (a substituteFrom Secret labelled
//    reconcile.fluxcd.io/watch: Enabled changed in the cluster: the pod template's checksum annotation follows);
//  - bad input (a key that is not a recipient, a tampered MAC, a missing key Secret): DecryptionFailed naming the
//    file, nothing applied;
//  - no plaintext and no key in any output: status, Events, the controllers' logs and /metrics;
//  - multi-tenancy on: a tenant whose ServiceAccount may not read Secrets gets decryption (the controller reads the
//    key, as in Flux) and the chart's RBAC never refuses the controller.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { type GitOpsEnv, startGitOpsEnv } from "@capstan/devenv/gitops";
import type { KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}
type Kustomization = KubeObject & {
  status?: { conditions?: Condition[]; lastAppliedRevision?: string; inventory?: { entries?: unknown[] } };
};
type Secret = KubeObject & { data?: Record<string, string> };
interface Deployment extends KubeObject {
  spec: {
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: { env?: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[] }[] };
    };
  };
}

interface AgeKey {
  identity: string;
  recipient: string;
  /** The AGE-SECRET-KEY-... line: must never appear in an output. */
  secret: string;
}

async function ageKeygen(): Promise<AgeKey> {
  const { bin } = await ensureBinaries();
  const { stdout } = await run(bin["age-keygen"], []);
  const recipient = /public key: (age1[a-z0-9]+)/.exec(stdout)?.[1];
  const secret = /^AGE-SECRET-KEY-[A-Z0-9]+$/m.exec(stdout)?.[0];
  if (!recipient || !secret) throw new Error("age-keygen printed no key");
  return { identity: stdout, recipient, secret };
}

/** `sops --encrypt --in-place <path>` in the repository's work tree, so its .sops.yaml picks the key (README). */
async function sopsEncryptInPlace(work: string, path: string): Promise<void> {
  const { bin } = await ensureBinaries();
  await run(bin.sops, ["--encrypt", "--in-place", path], {
    cwd: work,
    env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent" },
  });
}

const secretYaml = (password: string) => `apiVersion: v1
kind: Secret
metadata:
  name: db
  labels:
    app: shop
stringData:
  password: ${password}
`;

const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: { app: shop }
  template:
    metadata:
      labels: { app: shop }
    spec:
      containers:
        - name: app
          image: registry.invalid/shop:1.0
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: { name: db, key: password }
`;

// Rotation without a commit: the password reaches a Secret through substitution, its checksum the pod template.
const rotationFiles = {
  "rotation/kustomization.yaml": "resources: [secret.yaml, deployment.yaml]\n",
  "rotation/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: app-db
stringData:
  password: "\${db_password}"
`,
  "rotation/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: rotating
spec:
  replicas: 1
  selector:
    matchLabels: { app: rotating }
  template:
    metadata:
      labels: { app: rotating }
      annotations:
        checksum/db-credentials: "\${db_checksum}"
    spec:
      containers:
        - name: app
          image: registry.invalid/shop:1.0
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: { name: app-db, key: password }
`,
};

const newPassword = (what: string) => `${what}-${randomBytes(9).toString("hex")}`;
const decoded = (s: Secret | undefined, key: string) => Buffer.from(s?.data?.[key] ?? "", "base64").toString("utf8");
const sha256Hex = (v: string) => createHash("sha256").update(v).digest("hex");

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** Everything the controllers show to the outside: logs, /metrics, Kustomization statuses, the namespace's Events. */
async function outputs(env: GitOpsEnv): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of env.controllers.byName.values()) {
    out[`${c.name} log`] = await readFile(c.process.spec.logFile, "utf8");
    const metrics = c.addresses["metrics-addr"];
    if (metrics) out[`${c.name} /metrics`] = await httpGet(`http://${metrics}/metrics`);
  }
  const list = async (apiVersion: string, kind: string) =>
    (await env.client.list(await env.client.resourceFor(apiVersion, kind), { namespace: env.namespace })).items;
  out.Kustomizations = JSON.stringify(
    (await list("kustomize.toolkit.fluxcd.io/v1", "Kustomization")).map((k) => (k as Kustomization).status),
  );
  out.Events = JSON.stringify(await list("v1", "Event"));
  return out;
}

function expectNoneOf(secrets: string[], outputs: Record<string, string>): void {
  for (const [where, text] of Object.entries(outputs)) {
    for (const s of secrets) {
      if (text.includes(s)) throw new Error(`${where} holds a secret value (${s.slice(0, 4)}…)`);
    }
  }
}

describe("Given SOPS-encrypted overlays in Git and the controllers running as their charts start them", {
  timeout: 240_000,
}, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;
  let dev: AgeKey;
  let prod: AgeKey;
  const passwords = {
    dev: newPassword("dev"),
    prod: newPassword("prod"),
    tampered: newPassword("tampered"),
    kms: newPassword("kms"),
  };
  /** Every plaintext and key that went anywhere near the controllers. */
  const secrets: string[] = [];

  const kustomization = (name: string) =>
    env.get<Kustomization>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name);
  const secret = (name: string) => env.get<Secret>("v1", "Secret", name);
  const deployment = (name: string) => env.get<Deployment>("apps/v1", "Deployment", name);
  const decryption = (key: string) => ({ decryption: { provider: "sops" as const, secretRef: { name: key } } });

  /** Writes plaintext into the work tree, encrypts it in place with sops (the .sops.yaml rule), returns the path. */
  const encrypted = async (path: string, content: string) => {
    const abs = join(env.repo.work, path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
    await sopsEncryptInPlace(env.repo.work, path);
    return readFile(abs, "utf8");
  };

  beforeAll(async () => {
    env = await startGitOpsEnv({
      kubeconfig,
      prefix: "e2e-secrets",
      only: ["source-controller", "kustomize-controller"],
    });
    dev = await ageKeygen();
    prod = await ageKeygen();
    secrets.push(...Object.values(passwords), dev.secret, prod.secret);
    for (const [name, key] of [
      ["sops-dev", dev],
      ["sops-prod", prod],
    ] as const) {
      await env.client.apply(
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name, namespace: env.namespace },
          stringData: { [`${name.slice(5)}.agekey`]: key.identity },
        },
        { fieldManager: "capstan-e2e" },
      );
    }
    // The README's .sops.yaml: one creation rule per environment, Secret values only; `bad/` is the bad-input corner.
    const rule = (path: string, key: AgeKey) =>
      `  - path_regex: ${path}/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${key.recipient}\n`;
    await env.repo.commit({
      ".sops.yaml": `creation_rules:\n${rule("overlays/dev", dev)}${rule("overlays/prod", prod)}${rule("bad", dev)}`,
    });
    const files: Record<string, string> = {
      "base/kustomization.yaml": "resources: [deployment.yaml]\n",
      "base/deployment.yaml": deploymentYaml,
      "bad/kustomization.yaml": "resources: [db-secret.yaml]\nnamePrefix: bad-\n",
      ...rotationFiles,
    };
    for (const e of ["dev", "prod"] as const) {
      files[`overlays/${e}/kustomization.yaml`] = `resources: [../../base, db-secret.yaml]\nnamePrefix: ${e}-\n`;
      files[`overlays/${e}/db-secret.yaml`] = await encrypted(`overlays/${e}/db-secret.yaml`, secretYaml(passwords[e]));
    }
    // A value sops left in clear (a label) changed after encryption: only the MAC tells.
    files["bad/db-secret.yaml"] = (await encrypted("bad/db-secret.yaml", secretYaml(passwords.tampered))).replace(
      "app: shop",
      "app: evil",
    );
    // The same kind of file as if its data key were wrapped by AWS KMS alone (sops's metadata layout for kms).
    files["bad/kms/kustomization.yaml"] = "resources: [db-secret.yaml]\n";
    files["bad/kms/db-secret.yaml"] = (await encrypted("bad/kms/db-secret.yaml", secretYaml(passwords.kms))).replace(
      /\n {4}age:\n(?: {8}.*\n| {6}.*\n)*?(?= {4}\S)/,
      "\n    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/example\n          enc: AQICAHh\n",
    );
    expect(files["bad/kms/db-secret.yaml"]).not.toMatch(/age1/);
    await env.repo.commit(files, { message: "dev and prod secrets, encrypted" });
    // Polling every 2s stands in for a push webhook.
    await env.gitRepository("app", { interval: "2s" });
    for (const e of ["dev", "prod"] as const) {
      await env.kustomization(e, {
        path: `./overlays/${e}`,
        targetNamespace: env.namespace,
        wait: true,
        timeout: "90s",
        ...decryption(`sops-${e}`),
      });
    }
  }, 240_000);
  afterAll(async () => env?.close(), 120_000);

  it("should apply each overlay decrypted with its own key, the Deployment consuming its Secret", async () => {
    await env.ready("Kustomization", "dev", 150_000);
    await env.ready("Kustomization", "prod", 150_000);
    expect(decoded(await secret("dev-db"), "password")).toBe(passwords.dev);
    expect(decoded(await secret("prod-db"), "password")).toBe(passwords.prod);
    for (const e of ["dev", "prod"]) {
      const d = await deployment(`${e}-app`);
      expect(d?.spec.template.spec.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.name).toBe(`${e}-db`);
    }
    expect((await secret("dev-db")) && "sops" in ((await secret("dev-db")) as object)).toBe(false);
  });

  it("should keep every password out of the repository: git grep over all history finds none", async () => {
    const git = (args: string[]) => run("git", ["-C", env.repo.bare, ...args]);
    const revs = (await git(["rev-list", "--all"])).stdout.trim().split("\n");
    // The grep itself works: it finds the encrypted values.
    expect((await git(["grep", "-F", "-c", "ENC[AES256_GCM", ...revs])).stdout).toMatch(
      /overlays\/prod\/db-secret\.yaml/,
    );
    for (const p of Object.values(passwords)) {
      const found = await git(["grep", "-F", "-e", p, ...revs]).then(
        (r) => r.stdout,
        (e: { code?: number; stdout?: string }) => (e.code === 1 ? "" : `git grep failed: ${String(e.stdout)}`),
      );
      expect(found).toBe("");
    }
  });

  it("should apply a new encrypted value once it is committed", async () => {
    const rotated = newPassword("prod-rotated");
    secrets.push(rotated);
    const sha = await env.repo.commit(
      { "overlays/prod/db-secret.yaml": await encrypted("overlays/prod/db-secret.yaml", secretYaml(rotated)) },
      { message: "rotate the prod password" },
    );
    await eventually(async () => decoded(await secret("prod-db"), "password") === rotated, {
      timeoutMs: 90_000,
      what: "the rotated prod password in the cluster",
    });
    await eventually(async () => (await kustomization("prod"))?.status?.lastAppliedRevision === `main@sha1:${sha}`, {
      timeoutMs: 60_000,
      what: "prod at the rotation's revision",
    });
    expect(decoded(await secret("dev-db"), "password")).toBe(passwords.dev);
  });

  it("should roll the Deployment when a watched substituteFrom Secret is rotated in the cluster, without a commit", async () => {
    const credentials = async (password: string) => {
      secrets.push(password);
      await env.client.apply(
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: {
            name: "db-credentials",
            namespace: env.namespace,
            labels: { "reconcile.fluxcd.io/watch": "Enabled" },
          },
          stringData: { db_password: password, db_checksum: sha256Hex(password) },
        },
        { fieldManager: "capstan-e2e" },
      );
    };
    const first = newPassword("sub");
    await credentials(first);
    await env.kustomization("rotation", {
      path: "./rotation",
      targetNamespace: env.namespace,
      interval: "1h",
      postBuild: { substituteFrom: [{ kind: "Secret", name: "db-credentials" }] },
    });
    const k = await env.ready<Kustomization>("Kustomization", "rotation", 90_000);
    const revision = k.status?.lastAppliedRevision;
    expect(decoded(await secret("app-db"), "password")).toBe(first);
    const annotation = async () =>
      (await deployment("rotating"))?.spec.template.metadata.annotations?.["checksum/db-credentials"];
    expect(await annotation()).toBe(sha256Hex(first));

    const second = newPassword("sub-rotated");
    await credentials(second);
    // The interval is an hour: only the watch on the labelled Secret can bring this within the wait.
    await eventually(async () => (await annotation()) === sha256Hex(second), {
      timeoutMs: 60_000,
      what: "the pod template's checksum annotation following the rotated Secret",
    });
    expect(decoded(await secret("app-db"), "password")).toBe(second);
    expect((await kustomization("rotation"))?.status?.lastAppliedRevision).toBe(revision);
  });

  it.each([
    ["a key that is not a recipient", "wrong-key", "./overlays/prod", "sops-dev", /overlays\/prod\/db-secret\.yaml/],
    ["a value changed after encryption", "tampered", "./bad", "sops-dev", /bad\/db-secret\.yaml failed: MAC mismatch/],
    [
      "a file for a cloud KMS only",
      "kms-only",
      "./bad/kms",
      "sops-dev",
      /bad\/kms\/db-secret\.yaml failed: .*KMS.*not supported/,
    ],
    [
      "a key Secret that does not exist",
      "no-key",
      "./overlays/dev",
      "absent",
      /decryption secret '[^']*absent' not found/,
    ],
  ])("Given %s, should fail with DecryptionFailed and apply nothing", async (_what, name, path, key, message) => {
    await env.kustomization(name, { path, targetNamespace: env.namespace, namePrefix: `${name}-`, ...decryption(key) });
    let last: Condition | undefined;
    await eventually(
      async () => {
        const k = await kustomization(name);
        last = k?.status?.conditions?.find((c) => c.type === "Ready");
        return last?.status === "False" && last.reason === "DecryptionFailed";
      },
      { timeoutMs: 90_000, what: () => `${name} DecryptionFailed (last: ${JSON.stringify(last)})` },
    );
    expect(last?.message).toMatch(message);
    expect((await kustomization(name))?.status?.inventory?.entries ?? []).toEqual([]);
    const named = async (apiVersion: string, kind: string) =>
      (await env.client.list(await env.client.resourceFor(apiVersion, kind), { namespace: env.namespace })).items
        .map((o) => o.metadata.name)
        .filter((n) => n.startsWith(`${name}-`));
    expect(await named("v1", "Secret")).toEqual([]);
    expect(await named("apps/v1", "Deployment")).toEqual([]);
  });

  it("should show no plaintext and no key in status, Events, the controllers' logs or /metrics", async () => {
    const seen = await outputs(env);
    // What is searched is real: the logs and metrics speak of these Kustomizations.
    expect(seen["kustomize-controller log"]).toContain('"name":"prod"');
    expect(seen["kustomize-controller /metrics"]).toContain("gotk_reconcile_duration_seconds");
    expect(seen.Events).toContain("DecryptionFailed");
    expectNoneOf(secrets, seen);
    // Base64 of a value is as good as the value.
    expectNoneOf(
      secrets.map((s) => Buffer.from(s).toString("base64").slice(0, 16)),
      seen,
    );
    expect(env.controllers.permissionRefusals()).toEqual([]);
  });
});

describe("Given multi-tenancy on and a tenant whose ServiceAccount may not read Secrets", { timeout: 240_000 }, () => {
  const kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
  let env: GitOpsEnv;
  const token = newPassword("token");

  beforeAll(async () => {
    env = await startGitOpsEnv({
      kubeconfig,
      prefix: "e2e-secrets-tenant",
      only: ["source-controller", "kustomize-controller"],
      set: ["kustomize-controller.multitenancy.enabled=true"],
    });
    // The platform team's grant: ConfigMaps in the namespace, no Secrets (so not the key).
    const metadata = { name: "tenant-configmaps", namespace: env.namespace };
    await env.client.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata,
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch"] }],
      } as KubeObject,
      { fieldManager: "capstan-e2e" },
    );
    await env.client.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: metadata.name },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: env.namespace }],
      } as KubeObject,
      { fieldManager: "capstan-e2e" },
    );
  }, 240_000);
  afterAll(async () => env?.close(), 120_000);

  it("should decrypt with the key the controller reads and apply as the tenant", async () => {
    const key = await ageKeygen();
    await env.client.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "sops-age", namespace: env.namespace },
        stringData: { "tenant.agekey": key.identity },
      },
      { fieldManager: "capstan-e2e" },
    );
    await env.repo.commit({
      ".sops.yaml": `creation_rules:\n  - path_regex: .*\\.yaml$\n    encrypted_regex: ^data$\n    age: ${key.recipient}\n`,
    });
    const path = join(env.repo.work, "app/settings.yaml");
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  token: ${token}\n`);
    await sopsEncryptInPlace(env.repo.work, "app/settings.yaml");
    await env.repo.commit({ "app/kustomization.yaml": "resources: [settings.yaml]\n" });
    await env.gitRepository("app", { interval: "2s" });
    await env.kustomization("tenant", {
      path: "./app",
      targetNamespace: env.namespace,
      decryption: { provider: "sops", secretRef: { name: "sops-age" } },
    });
    await env.ready("Kustomization", "tenant", 120_000);
    const cm = await env.get<KubeObject & { data?: Record<string, string> }>("v1", "ConfigMap", "settings");
    expect(cm?.data?.token).toBe(token);
    // With multi-tenancy on the controller may write nothing of its own: the ConfigMap was applied as the tenant, and
    // the key was read as the controller without a refusal.
    expect(env.controllers.permissionRefusals()).toEqual([]);
    expectNoneOf([token, key.secret], await outputs(env));
  });
});
