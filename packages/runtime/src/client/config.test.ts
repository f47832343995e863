import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadKubeConfig } from "./config.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeconfig-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function resolve(kc: ReturnType<typeof loadKubeConfig>) {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

describe("loadKubeConfig", () => {
  it("reads inline data, files relative to the kubeconfig and a token file, re-reading the token each time", async () => {
    await writeFile(join(dir, "ca.pem"), "CA FROM FILE");
    await writeFile(join(dir, "token"), "tok-1\n");
    const path = join(dir, "config");
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: a",
        "contexts:",
        "- name: a",
        "  context: { cluster: c, user: u }",
        "- name: b",
        "  context: { cluster: c, user: basic }",
        "clusters:",
        "- name: c",
        "  cluster: { server: 'https://127.0.0.1:6443', certificate-authority: ca.pem, tls-server-name: kube }",
        "users:",
        "- name: u",
        `  user: { client-certificate-data: ${b64("CERT")}, client-key-data: ${b64("KEY")}, tokenFile: token }`,
        "- name: basic",
        "  user: { username: admin, password: secret }",
      ].join("\n"),
    );
    const kc = loadKubeConfig({ kubeconfigPath: path });
    expect(kc.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
    const opts = await resolve(kc);
    expect(String(opts.ca)).toBe("CA FROM FILE");
    expect(String(opts.cert)).toBe("CERT");
    expect(String(opts.key)).toBe("KEY");
    expect(opts.servername).toBe("kube");
    expect(opts.rejectUnauthorized).toBeUndefined();
    expect(opts.headers).toEqual({ Authorization: "Bearer tok-1" });
    await writeFile(join(dir, "token"), "tok-2");
    expect((await resolve(kc)).headers).toEqual({ Authorization: "Bearer tok-2" });

    const basic = await resolve(loadKubeConfig({ kubeconfigPath: path, context: "b" }));
    expect(basic.auth).toBe("admin:secret");
    expect(() => loadKubeConfig({ kubeconfigPath: path, context: "nope" })).toThrow(/no context named 'nope'/);
  });

  it("merges the files of KUBECONFIG, the first one to set a value winning", async () => {
    const first = join(dir, "one");
    const second = join(dir, "two");
    await writeFile(
      first,
      "current-context: x\nclusters:\n- name: c\n  cluster: { server: 'https://first:1', insecure-skip-tls-verify: true }\n",
    );
    await writeFile(
      second,
      [
        "current-context: y",
        "contexts:",
        "- name: x",
        "  context: { cluster: c, user: u }",
        "clusters:",
        "- name: c",
        "  cluster: { server: 'https://second:2' }",
        "users:",
        "- name: u",
        "  user: { token: abc }",
      ].join("\n"),
    );
    const kc = loadKubeConfig({ env: { KUBECONFIG: `${join(dir, "missing")}:${first}:${second}` } });
    expect(kc.getCurrentCluster()?.server).toBe("https://first:1");
    const opts = await resolve(kc);
    expect(opts.rejectUnauthorized).toBe(false);
    expect(opts.headers).toEqual({ Authorization: "Bearer abc" });
  });

  it("says what is missing", async () => {
    expect(() => loadKubeConfig({ env: {} })).toThrow(/none found/);
    expect(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, "missing") } })).toThrow(/none of the files/);
    const path = join(dir, "config");
    await writeFile(path, "current-context: a\ncontexts:\n- name: a\n  context: { cluster: gone }\n");
    expect(() => loadKubeConfig({ kubeconfigPath: path })).toThrow(/no current cluster/);
    const tokenless = join(dir, "tokenless");
    await writeFile(
      tokenless,
      "current-context: a\ncontexts:\n- name: a\n  context: { cluster: c, user: u }\nclusters:\n- name: c\n  cluster: { server: 'https://h:1' }\nusers:\n- name: u\n  user: { tokenFile: /nonexistent/token }\n",
    );
    await expect(resolve(loadKubeConfig({ kubeconfigPath: tokenless }))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("hands an exec plugin to client-node, which runs it as kubectl would", async () => {
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: "from-exec" },
    });
    const path = join(dir, "config");
    await writeFile(
      path,
      [
        "current-context: a",
        "contexts:",
        "- name: a",
        "  context: { cluster: c, user: u }",
        "clusters:",
        "- name: c",
        "  cluster: { server: 'https://exec-host:6443' }",
        "users:",
        "- name: u",
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1",
        "      command: /bin/sh",
        `      args: ["-c", ${JSON.stringify(`echo '${credential}'`)}]`,
        "      interactiveMode: Never",
      ].join("\n"),
    );
    const kc = loadKubeConfig({ kubeconfigPath: path });
    const opts = await resolve(kc);
    expect(opts.headers).toMatchObject({ Authorization: "Bearer from-exec" });
    expect(kc.getCurrentCluster()?.server).toBe("https://exec-host:6443");
  });
});
