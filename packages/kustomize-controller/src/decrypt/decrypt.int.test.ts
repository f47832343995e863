// spec.decryption (provider sops) through the reconciler, with keys from the real age-keygen and files encrypted by
// the real, pinned sops: an encrypted Secret manifest and an encrypted dotenv that a secretGenerator reads are applied
// in clear; a wrong key, a tampered value (MAC) or a missing
// key Secret each give Ready=False DecryptionFailed naming the file or object, nothing of the Kustomization is
// applied, and the plaintext is in neither status nor Events.
import { describe, expect, it, onTestFinished } from "vitest";
import { parse as parseYaml } from "yaml";
import type { KubeObject } from "../kube.js";
import type { Harness } from "../testing/harness.js";
import { readyOf } from "../testing/harness.js";
import { failedWith, kubeconfig, namespaceEvents, readyAt, scenario, untilKustomization } from "../testing/scenario.js";
import { type AgeKey, ageKeygen, pgpKey, sopsEncrypt } from "../testing/sops.js";

const password = "s3cr3t-Pa55word-4711";
const apiToken = "tok-0a1b2c3d4e5f";

const secretManifest = (namespace: string) => `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: ${namespace}
  labels:
    tier: db
stringData:
  password: ${password}
`;

async function keySecret(h: Harness, name: string, key: AgeKey): Promise<void> {
  await h.client.apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: h.namespace },
      stringData: { "identity.agekey": key.identity },
    },
    { fieldManager: "test" },
  );
}

async function source(h: Harness, key: AgeKey, tamper = false) {
  let secret = await sopsEncrypt("db.yaml", secretManifest(h.namespace), key.recipient, [
    "--encrypted-regex",
    "^(data|stringData)$",
  ]);
  // An unencrypted value changed after encryption: only the MAC can tell.
  if (tamper) secret = secret.replace("tier: db", "tier: web");
  const env = await sopsEncrypt("app.env", `API_TOKEN=${apiToken}\nMODE=prod\n`, key.recipient);
  return h.artifact({
    "kustomization.yaml": `resources: [db.yaml, plain.yaml]
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: app
    namespace: ${h.namespace}
    envs: [app.env]
`,
    "db.yaml": secret,
    "app.env": env,
    "plain.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
  namespace: ${h.namespace}
data:
  mode: plain
`,
  });
}

const decryption = (name: string) => ({ decryption: { provider: "sops", secretRef: { name } } });

async function getSecret(h: Harness, name: string) {
  return h.client.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "Secret",
    name,
    namespace: h.namespace,
  });
}

const decoded = (data: Record<string, string> | undefined, key: string) =>
  Buffer.from(data?.[key] ?? "", "base64").toString("utf8");

async function expectNothingLeaked(h: Harness, name: string): Promise<void> {
  const k = await h.getKustomization(name);
  const events = await namespaceEvents(h);
  const text = JSON.stringify(k?.status) + JSON.stringify(events.map((e) => e.message));
  expect(text).not.toContain(password);
  expect(text).not.toContain(apiToken);
}

async function expectNothingApplied(h: Harness): Promise<void> {
  expect(await getSecret(h, "db")).toBeUndefined();
  expect(await getSecret(h, "app")).toBeUndefined();
  expect(
    await h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "plain", namespace: h.namespace }),
  ).toBeUndefined();
}

describe("Kustomization spec.decryption (SOPS, age)", () => {
  it("Given an encrypted Secret manifest and an encrypted dotenv of a secretGenerator, should apply both decrypted", async () => {
    const { h } = await scenario(kubeconfig(), "ks-sops");
    const key = await ageKeygen();
    await keySecret(h, "sops-age", key);
    const a = await source(h, key);
    expect(JSON.stringify(a)).not.toContain(password);
    await h.publish("repo", a);
    await h.kustomization("app", decryption("sops-age"));
    await untilKustomization(h, "app", "applied", readyAt(a.revision));
    const db = await getSecret(h, "db");
    expect(decoded(db?.data, "password")).toBe(password);
    expect(db && "sops" in db).toBe(false);
    const app = await getSecret(h, "app");
    expect(decoded(app?.data, "API_TOKEN")).toBe(apiToken);
    expect(decoded(app?.data, "MODE")).toBe("prod");
    // A file sops did not encrypt is applied as it is.
    expect(
      await h.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "plain", namespace: h.namespace }),
    ).toBeDefined();
    await expectNothingLeaked(h, "app");
  });

  it.each([
    [
      "a key that is not a recipient",
      "wrong-key",
      /decryption of app\.env failed: no key of the decryption Secret can decrypt it/,
    ],
    ["a value changed after encryption", "tampered", /decryption of db\.yaml failed: MAC mismatch/],
    ["a decryption Secret that does not exist", "missing-key", /decryption secret '[^']+\/absent' not found/],
  ])("Given %s, should fail with DecryptionFailed and apply nothing", async (_what, name, message) => {
    const { h } = await scenario(kubeconfig(), `ks-sops-${name}`);
    const key = await ageKeygen();
    if (name === "wrong-key") await keySecret(h, "keys", await ageKeygen());
    else await keySecret(h, "keys", key);
    const a = await source(h, key, name === "tampered");
    await h.publish("repo", a);
    await h.kustomization(name, decryption(name === "missing-key" ? "absent" : "keys"));
    const k = await untilKustomization(h, name, "DecryptionFailed", failedWith("DecryptionFailed"));
    expect(readyOf(k)?.message).toMatch(message);
    await expectNothingApplied(h);
    await expectNothingLeaked(h, name);
  });

  it("Given dev and prod overlays each encrypted for its own age key, should apply each with its key only", async () => {
    const { h } = await scenario(kubeconfig(), "ks-sops-envs");
    const dev = await ageKeygen();
    const prod = await ageKeygen();
    await keySecret(h, "dev-key", dev);
    await keySecret(h, "prod-key", prod);
    const overlay = async (env: string, key: AgeKey) => ({
      [`overlays/${env}/kustomization.yaml`]: `resources: [db.yaml]\nnamePrefix: ${env}-\n`,
      [`overlays/${env}/db.yaml`]: await sopsEncrypt(
        "db.yaml",
        secretManifest(h.namespace).replace(password, `${env}-${password}`),
        key.recipient,
        ["--encrypted-regex", "^(data|stringData)$"],
      ),
    });
    const a = await h.artifact({ ...(await overlay("dev", dev)), ...(await overlay("prod", prod)) });
    expect(JSON.stringify(a)).not.toContain(password);
    await h.publish("repo", a);
    await h.kustomization("dev", { path: "./overlays/dev", ...decryption("dev-key") });
    await h.kustomization("prod", { path: "./overlays/prod", ...decryption("prod-key") });
    await untilKustomization(h, "dev", "applied", readyAt(a.revision));
    await untilKustomization(h, "prod", "applied", readyAt(a.revision));
    expect(decoded((await getSecret(h, "dev-db"))?.data, "password")).toBe(`dev-${password}`);
    expect(decoded((await getSecret(h, "prod-db"))?.data, "password")).toBe(`prod-${password}`);
  });

  it("Given a file encrypted for a cloud KMS only, should fail with DecryptionFailed saying KMS is not supported", async () => {
    const { h } = await scenario(kubeconfig(), "ks-sops-kms");
    const key = await ageKeygen();
    await keySecret(h, "keys", key);
    const encrypted = await sopsEncrypt("db.yaml", secretManifest(h.namespace), key.recipient, [
      "--encrypted-regex",
      "^(data|stringData)$",
    ]);
    // The same file as if its data key were wrapped by AWS KMS alone (sops's metadata layout for kms).
    const kmsOnly = encrypted.replace(
      /\n {4}age:\n(?: {8}.*\n| {6}.*\n)*?(?= {4}\S)/,
      "\n    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/example\n          enc: AQICAHh\n",
    );
    expect(kmsOnly).not.toMatch(/age1/);
    const a = await h.artifact({ "kustomization.yaml": "resources: [db.yaml]\n", "db.yaml": kmsOnly });
    await h.publish("repo", a);
    await h.kustomization("kms", decryption("keys"));
    const k = await untilKustomization(h, "kms", "DecryptionFailed", failedWith("DecryptionFailed"));
    expect(readyOf(k)?.message).toMatch(/db\.yaml failed: it is encrypted for cloud KMS only \(kms\).*not supported/);
    expect(await getSecret(h, "db")).toBeUndefined();
    await expectNothingLeaked(h, "kms");
  });

  it("Given a tenant ServiceAccount that may not read the key Secret, should decrypt with the controller's own client and apply as the tenant", async () => {
    const { h } = await scenario(kubeconfig(), "ks-sops-tenant", { flags: ["--default-service-account=default"] });
    // The tenant may manage ConfigMaps in its namespace, nothing else: no Secret, so not the key (as in Flux, the
    // controller reads spec.decryption.secretRef itself).
    const rules = [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch"] }];
    const metadata = { name: "tenant", namespace: h.namespace };
    await h.client.apply(
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules },
      { fieldManager: "test" },
    );
    await h.client.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: h.namespace }],
      },
      { fieldManager: "test" },
    );
    const key = await ageKeygen();
    await keySecret(h, "sops-age", key);
    const encrypted = await sopsEncrypt(
      "settings.yaml",
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${h.namespace}\ndata:\n  token: ${apiToken}\n`,
      key.recipient,
      ["--encrypted-regex", "^data$"],
    );
    const a = await h.artifact({ "kustomization.yaml": "resources: [settings.yaml]\n", "settings.yaml": encrypted });
    await h.publish("repo", a);
    await h.kustomization("tenant", decryption("sops-age"));
    await untilKustomization(h, "tenant", "applied", readyAt(a.revision));
    const cm = await h.client.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "settings",
      namespace: h.namespace,
    });
    expect(cm?.data?.token).toBe(apiToken);
    await expectNothingLeaked(h, "tenant");
  });

  it("Given generator files in every format sops writes, an unencrypted_suffix and age plus OpenPGP recipients, should apply them decrypted with either key", async () => {
    const { h } = await scenario(kubeconfig(), "ks-sops-formats");
    const age = await ageKeygen();
    const pgp = await pgpKey();
    onTestFinished(pgp.close);
    // Every file has two recipients: the age key and the OpenPGP key (a mixed key group, as .sops.yaml can ask).
    const enc = (name: string, content: string, args: string[] = []) =>
      sopsEncrypt(name, content, age.recipient, ["--pgp", pgp.fingerprint, ...args], pgp.home);
    // Bytes that are not text (sopsEncrypt writes the string as UTF-8, so these are the file's bytes).
    const binary = `\u0000\u0001\u00fe\u00ff${apiToken}`;
    const files = {
      "kustomization.yaml": `resources: [db.yaml]
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: app
    namespace: ${h.namespace}
    envs: [app.env]
    files: [config.json, config.yaml, config.ini, blob.bin]
`,
      "db.yaml": await enc("db.yaml", `${secretManifest(h.namespace)}  note_unencrypted: visible\n`, [
        "--unencrypted-suffix",
        "_unencrypted",
      ]),
      "app.env": await enc("app.env", `API_TOKEN=${apiToken}\n`),
      "config.json": await enc("config.json", JSON.stringify({ token: apiToken, retries: 3, on: true })),
      "config.yaml": await enc("config.yaml", `token: ${apiToken}\nhosts: [a, b]\n`),
      "config.ini": await enc("config.ini", `[db]\npassword = ${password}\n`),
      "blob.bin": await enc("blob.bin", binary),
    };
    // What sops left in clear, and what it did not.
    expect(files["db.yaml"]).toContain("note_unencrypted: visible");
    for (const text of Object.values(files)) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(apiToken);
    }
    const a = await h.artifact(files);
    await h.publish("repo", a);
    await h.client.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "pgp-only", namespace: h.namespace },
        stringData: { "team.asc": pgp.armored },
      },
      { fieldManager: "test" },
    );
    await keySecret(h, "age-only", age);
    await h.kustomization("age", { namePrefix: "age-", ...decryption("age-only") });
    await h.kustomization("pgp", { namePrefix: "pgp-", ...decryption("pgp-only") });
    for (const prefix of ["age", "pgp"]) {
      await untilKustomization(h, prefix, "applied", readyAt(a.revision));
      const db = await getSecret(h, `${prefix}-db`);
      expect(decoded(db?.data, "password")).toBe(password);
      expect(decoded(db?.data, "note_unencrypted")).toBe("visible");
      const app = await getSecret(h, `${prefix}-app`);
      expect(decoded(app?.data, "API_TOKEN")).toBe(apiToken);
      expect(JSON.parse(decoded(app?.data, "config.json"))).toEqual({ token: apiToken, retries: 3, on: true });
      expect(parseYaml(decoded(app?.data, "config.yaml"))).toEqual({ token: apiToken, hosts: ["a", "b"] });
      expect(decoded(app?.data, "config.ini").replace(/\s+/g, " ").trim()).toBe(`[db] password = ${password}`);
      expect(Buffer.from(app?.data?.["blob.bin"] ?? "", "base64")).toEqual(Buffer.from(binary));
      await expectNothingLeaked(h, prefix);
    }
    // Twelve sops encryptions, an OpenPGP key and twelve decryptions: minutes on a loaded 2-core machine.
  }, 300_000);

  it("Given a file encrypted for an OpenPGP key and the armored key under *.asc, should apply it decrypted", async () => {
    const { h } = await scenario(kubeconfig(), "ks-sops-pgp");
    const key = await pgpKey();
    onTestFinished(key.close);
    await h.client.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "pgp-keys", namespace: h.namespace },
        stringData: { "team.asc": key.armored },
      },
      { fieldManager: "test" },
    );
    const encrypted = await sopsEncrypt(
      "db.yaml",
      secretManifest(h.namespace),
      "",
      ["--pgp", key.fingerprint, "--encrypted-regex", "^(data|stringData)$"],
      key.home,
    );
    const a = await h.artifact({ "kustomization.yaml": "resources: [db.yaml]\n", "db.yaml": encrypted });
    await h.publish("repo", a);
    await h.kustomization("pgp", decryption("pgp-keys"));
    await untilKustomization(h, "pgp", "applied", readyAt(a.revision));
    expect(decoded((await getSecret(h, "db"))?.data, "password")).toBe(password);
    await expectNothingLeaked(h, "pgp");
  });
});
