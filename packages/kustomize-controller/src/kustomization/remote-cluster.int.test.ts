// spec.kubeConfig.secretRef: the Kustomization applies through the kubeconfig a Secret holds (here the test control
// plane's own, a legitimate "remote" target). A broken kubeconfig fails clearly and its credentials never reach the
// Kustomization's status or the namespace's Events.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { parse, stringify } from "yaml";
import type { Harness } from "../testing/harness.js";
import { readyOf } from "../testing/harness.js";
import {
  configMap,
  failedWith,
  getConfigMap,
  kubeconfig,
  namespaceEvents,
  readyAt,
  scenario,
  untilKustomization,
} from "../testing/scenario.js";
import type { KustomizationObject } from "./types.js";

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { name: string; user: Record<string, string> }[];
}

async function putKubeconfig(h: Harness, name: string, text: string): Promise<void> {
  await h.client.apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: h.namespace },
      data: { "value.yaml": Buffer.from(text).toString("base64") },
    },
    { fieldManager: "test", force: true },
  );
}

/** Pieces of a credential that must not show anywhere: the value, its decoded PEM body lines, long prefixes. */
function fragments(secret: string): string[] {
  const decoded = Buffer.from(secret, "base64").toString("utf8");
  const pemLines = decoded.split("\n").filter((l) => l.length >= 32 && !l.startsWith("-----"));
  return [secret.slice(0, 32), ...pemLines.map((l) => l.slice(0, 32))];
}

async function expectNoLeak(h: Harness, name: string, secrets: string[]): Promise<void> {
  const k = await h.getKustomization(name);
  const events = await namespaceEvents(h);
  const visible = JSON.stringify(k?.status) + JSON.stringify(events.map((e) => [e.message, e.metadata.annotations]));
  for (const s of secrets) expect(visible).not.toContain(s);
}

describe("Kustomization kubeConfig.secretRef", () => {
  it("Given a Secret with a working kubeconfig, should apply through it", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-remote");
    await putKubeconfig(h, "remote", await readFile(kubeconfig(), "utf8"));
    const a = await h.artifact({ "cm.yaml": configMap("remote", "1") });
    await h.publish("repo", a);
    await h.kustomization("remote", { targetNamespace: ns.name, kubeConfig: { secretRef: { name: "remote" } } });
    const k = await untilKustomization(h, "remote", "applied", readyAt(a.revision));
    expect(k.status?.inventory?.entries).toEqual([{ id: `${ns.name}_remote__ConfigMap`, v: "v1" }]);
    expect((await getConfigMap(h, "remote"))?.data).toEqual({ value: "1" });
  });

  it("Given broken kubeconfigs, should fail clearly without their credentials in status or Events", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-remote-broken");
    const text = await readFile(kubeconfig(), "utf8");
    const config = parse(text) as Kubeconfig;
    const user = config.users[0]!.user;
    const key = user["client-key-data"]!;
    const a = await h.artifact({ "cm.yaml": configMap("remote", "1") });
    await h.publish("repo", a);

    // Real credentials, unreachable server.
    const unreachable = structuredClone(config);
    unreachable.clusters[0]!.cluster.server = "https://127.0.0.1:1";
    await putKubeconfig(h, "unreachable", stringify(unreachable));
    // Credentials in a kubeconfig that does not parse: a parser quoting the text near the error would leak them.
    const token = randomBytes(24).toString("hex");
    const malformed = structuredClone(config);
    malformed.users[0]!.user = { token };
    await putKubeconfig(h, "malformed", stringify(malformed).replace(`token: ${token}`, `token: "${token}\n:`));
    // A bearer token the apiserver rejects.
    const rejected = structuredClone(config);
    rejected.users[0]!.user = { token };
    await putKubeconfig(h, "rejected", stringify(rejected));

    const cases = [
      ["unreachable", /127\.0\.0\.1:1|ECONNREFUSED|connect/],
      [
        "malformed",
        /^kubeconfig Secret\/\S+\/malformed key 'value.yaml' cannot be used: kubeconfig is not valid YAML: .* at line \d+/,
      ],
      ["rejected", /Unauthorized/i],
    ] as const;
    for (const [name] of cases) {
      await h.kustomization(name, {
        targetNamespace: ns.name,
        retryInterval: "1s",
        kubeConfig: { secretRef: { name } },
      });
    }
    for (const [name, pattern] of cases) {
      const k = await untilKustomization(h, name, "failed", failedWith("ReconciliationFailed"));
      const message = readyOf(k)?.message ?? "";
      expect(message, name).toMatch(pattern);
      expect(message, name).not.toBe("");
    }
    expect(await getConfigMap(h, "remote")).toBeUndefined();
    for (const [name] of cases) await expectNoLeak(h, name, [...fragments(key), token.slice(0, 12)]);
  });
});

const stalledOf = (k: KustomizationObject) => k.status?.conditions?.find((c) => c.type === "Stalled");

/** A temp dir for marker and secret files, removed when the test ends. */
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ks-kubeconfig-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("Kustomization kubeConfig.secretRef written by a tenant", () => {
  it("Given a kubeconfig whose user runs an exec command, should stall naming user.exec and never run it", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-remote-exec");
    const dir = await scratch();
    const marker = join(dir, "exec-ran");
    const config = parse(await readFile(kubeconfig(), "utf8")) as Kubeconfig;
    const userName = config.users[0]!.name;
    (config.users[0] as { user: unknown }).user = {
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: "/bin/sh",
        args: [
          "-c",
          `touch ${marker}; echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"x"}}'`,
        ],
        interactiveMode: "Never",
      },
    };
    await putKubeconfig(h, "exec", stringify(config));
    const a = await h.artifact({ "cm.yaml": configMap("remote", "1") });
    await h.publish("repo", a);
    await h.kustomization("exec", { targetNamespace: ns.name, kubeConfig: { secretRef: { name: "exec" } } });

    const k = await untilKustomization(h, "exec", "stalled", (k) => stalledOf(k)?.status === "True");
    expect(readyOf(k)).toMatchObject({ status: "False", reason: "ReconciliationFailed" });
    expect(readyOf(k)?.message).toContain(`user '${userName}' exec is not allowed`);
    expect(stalledOf(k)?.reason).toBe("ReconciliationFailed");
    expect(existsSync(marker)).toBe(false);
    expect(await getConfigMap(h, "remote")).toBeUndefined();
  });

  it("Given a kubeconfig with a tokenFile, should stall naming it and never send the file to the server it names", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-remote-file");
    const dir = await scratch();
    const secret = `host-secret-${randomBytes(16).toString("hex")}`;
    const file = join(dir, "token");
    await writeFile(file, secret);
    // The "remote cluster": records everything it is sent.
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(JSON.stringify(req.headers));
      req.on("data", (c: Buffer) => received.push(c.toString()));
      req.on("end", () => {
        res.writeHead(401, { "content-type": "application/json" });
        res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}');
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const text = stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "attacker", cluster: { server: url } }],
      users: [{ name: "thief", user: { tokenFile: file } }],
      contexts: [{ name: "c", context: { cluster: "attacker", user: "thief" } }],
      "current-context": "c",
    });
    await putKubeconfig(h, "file", text);
    const a = await h.artifact({ "cm.yaml": configMap("remote", "1") });
    await h.publish("repo", a);
    await h.kustomization("file", { targetNamespace: ns.name, kubeConfig: { secretRef: { name: "file" } } });

    const k = await untilKustomization(h, "file", "stalled", (k) => stalledOf(k)?.status === "True");
    expect(readyOf(k)?.message).toContain("user 'thief' tokenFile is not allowed");
    expect(readyOf(k)?.message).not.toContain(file);
    expect(received.join("\n")).not.toContain(secret);
    expect(received).toEqual([]);
    await expectNoLeak(h, "file", [secret]);
  });
});

describe("Kustomization kubeConfig insecure-skip-tls-verify", () => {
  /** The test control plane's kubeconfig without its CA, asking to skip verification instead. */
  async function insecure(): Promise<string> {
    const config = parse(await readFile(kubeconfig(), "utf8")) as {
      clusters: { name: string; cluster: Record<string, unknown> }[];
    };
    const cluster = config.clusters[0]!;
    delete cluster.cluster["certificate-authority-data"];
    cluster.cluster["insecure-skip-tls-verify"] = true;
    return stringify(config);
  }

  it("Given no --insecure-kubeconfig-tls, should stall naming insecure-skip-tls-verify and the flag", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-remote-tls");
    const clusterName = (parse(await readFile(kubeconfig(), "utf8")) as { clusters: { name: string }[] }).clusters[0]!
      .name;
    await putKubeconfig(h, "insecure", await insecure());
    const a = await h.artifact({ "cm.yaml": configMap("remote", "1") });
    await h.publish("repo", a);
    await h.kustomization("insecure", { targetNamespace: ns.name, kubeConfig: { secretRef: { name: "insecure" } } });
    const k = await untilKustomization(h, "insecure", "stalled", (k) => stalledOf(k)?.status === "True");
    expect(readyOf(k)?.message).toContain(
      `cluster '${clusterName}' insecure-skip-tls-verify is not allowed unless the controller runs with --insecure-kubeconfig-tls`,
    );
    expect(await getConfigMap(h, "remote")).toBeUndefined();
  });

  it("Given --insecure-kubeconfig-tls=true, should apply through the unverified connection", async () => {
    const { ns, h } = await scenario(kubeconfig(), "ks-remote-tls-ok", { flags: ["--insecure-kubeconfig-tls=true"] });
    await putKubeconfig(h, "insecure", await insecure());
    const a = await h.artifact({ "cm.yaml": configMap("remote", "1") });
    await h.publish("repo", a);
    await h.kustomization("insecure", { targetNamespace: ns.name, kubeConfig: { secretRef: { name: "insecure" } } });
    await untilKustomization(h, "insecure", "applied", readyAt(a.revision));
    expect((await getConfigMap(h, "remote"))?.data).toEqual({ value: "1" });
  });
});
