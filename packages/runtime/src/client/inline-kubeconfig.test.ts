import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeconfigRefusedError, maxKubeconfigBytes, parseInlineKubeconfig } from "./inline-kubeconfig.js";

const secretToken = "s3cr3t-token-0123456789abcdef";
const pem = (label: string) =>
  Buffer.from(`-----BEGIN ${label}-----\nMIIBsecretbody${label}0123456789\n-----END ${label}-----\n`).toString(
    "base64",
  );

function kubeconfig(
  user: Record<string, unknown> = { token: secretToken },
  cluster: Record<string, unknown> = {},
): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "remote",
        cluster: { server: "https://remote.example:6443", "certificate-authority-data": pem("CA"), ...cluster },
      },
    ],
    users: [{ name: "tenant", user }],
    contexts: [{ name: "ctx", context: { cluster: "remote", user: "tenant", namespace: "apps" } }],
    "current-context": "ctx",
  });
}

function refusal(text: string, options = {}): KubeconfigRefusedError {
  try {
    parseInlineKubeconfig(text, options);
  } catch (err) {
    expect(err).toBeInstanceOf(KubeconfigRefusedError);
    return err as KubeconfigRefusedError;
  }
  throw new Error("expected the kubeconfig to be refused");
}

describe("parseInlineKubeconfig", () => {
  it("Given inline token and CA data, should return the server, CA and token", () => {
    const cfg = parseInlineKubeconfig(kubeconfig());
    expect(cfg.server.href).toBe("https://remote.example:6443/");
    expect(cfg.ca?.toString()).toContain("BEGIN CA");
    expect(cfg.token).toBe(secretToken);
    expect(cfg.insecureSkipTlsVerify).toBe(false);
  });

  it("Given inline client certificate and key, should return both", () => {
    const cfg = parseInlineKubeconfig(
      kubeconfig({ "client-certificate-data": pem("CERTIFICATE"), "client-key-data": pem("KEY") }),
    );
    expect(cfg.cert?.toString()).toContain("BEGIN CERTIFICATE");
    expect(cfg.key?.toString()).toContain("BEGIN KEY");
    expect(cfg.token).toBeUndefined();
  });

  it("Given username and password, should return them", () => {
    const cfg = parseInlineKubeconfig(kubeconfig({ username: "admin", password: "pw" }));
    expect([cfg.username, cfg.password]).toEqual(["admin", "pw"]);
  });

  it("Given tls-server-name and no user in the context, should connect anonymously with that SNI", () => {
    const text = kubeconfig({}, { "tls-server-name": "api.internal" }).replace(/^\s+user: tenant\n/m, "");
    const cfg = parseInlineKubeconfig(text);
    expect(cfg.tlsServerName).toBe("api.internal");
    expect(cfg.token).toBeUndefined();
  });

  it.each([
    [{ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", "id"] } }, "exec"],
    [{ "auth-provider": { name: "oidc", config: { "id-token": secretToken } } }, "auth-provider"],
    [{ tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" }, "tokenFile"],
    [{ "token-file": "/etc/shadow" }, "token-file"],
    [{ "client-certificate": "/etc/ssl/cert.pem", "client-key-data": pem("KEY") }, "client-certificate"],
    [{ "client-certificate-data": pem("CERTIFICATE"), "client-key": "/etc/ssl/key.pem" }, "client-key"],
    [{ token: secretToken, as: "system:admin" }, "as"],
    [{ token: secretToken, "as-groups": ["system:masters"] }, "as-groups"],
  ])("Given user %j, should refuse naming user 'tenant' %s", (user, field) => {
    const err = refusal(kubeconfig(user));
    expect(err.field).toBe(`user 'tenant' ${field}`);
    expect(err.message).toContain(`user 'tenant' ${field} is not`);
    expect(err.message).not.toContain(secretToken);
    expect(err.message).not.toContain("/etc/");
    expect(err.message).not.toContain("/var/run");
  });

  it.each([
    [{ "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" }, "certificate-authority"],
    [{ "proxy-url": "http://proxy.example:3128" }, "proxy-url"],
    [{ "insecure-skip-tls-verify": true }, "insecure-skip-tls-verify"],
  ])("Given cluster %j, should refuse naming cluster 'remote' %s", (cluster, field) => {
    const err = refusal(kubeconfig(undefined, cluster));
    expect(err.field).toBe(`cluster 'remote' ${field}`);
    expect(err.message).not.toContain("/var/run");
    expect(err.message).not.toContain("proxy.example");
  });

  it("Given insecure-skip-tls-verify and --insecure-kubeconfig-tls, should turn verification off", () => {
    const cfg = parseInlineKubeconfig(kubeconfig(undefined, { "insecure-skip-tls-verify": true }), {
      allowInsecureTls: true,
    });
    expect(cfg.insecureSkipTlsVerify).toBe(true);
  });

  it("Given an exec user that the current context does not use, should still refuse it (as Flux)", () => {
    const text = kubeconfig().replace(
      "users:\n",
      `users:\n  - name: unused\n    user:\n      exec:\n        command: touch\n        args: [/tmp/marker]\n`,
    );
    expect(refusal(text).field).toBe("user 'unused' exec");
  });

  it("Given malformed YAML around a token, should say where without quoting the text", () => {
    const text = kubeconfig().replace(`token: ${secretToken}`, `token: "${secretToken}\n:`);
    const err = refusal(text);
    expect(err.message).toMatch(/^kubeconfig is not valid YAML: \S+ at line \d+, column \d+$/);
    expect(err.message).not.toContain(secretToken.slice(0, 8));
  });

  it.each([
    ["no current-context", (t: string) => t.replace("current-context: ctx", ""), "current-context"],
    [
      "an unknown context",
      (t: string) => t.replace("current-context: ctx", "current-context: other"),
      "current-context 'other'",
    ],
    [
      "a file server URL",
      (t: string) => t.replace("https://remote.example:6443", "file:///etc/passwd"),
      "cluster 'remote' server",
    ],
    [
      "a token with a line break",
      (t: string) => t.replace(`token: ${secretToken}`, `token: "a\\nb"`),
      "user 'tenant' token",
    ],
    [
      "CA data that is not base64",
      (t: string) => t.replace(/certificate-authority-data: \S+/, "certificate-authority-data: '%%%'"),
      "cluster 'remote' certificate-authority-data",
    ],
  ])("Given %s, should refuse naming %s", (_what, edit, field) => {
    expect(refusal(edit(kubeconfig())).field).toBe(field);
  });

  it("Given a kubeconfig larger than a Secret can hold, should refuse it without parsing", () => {
    const text = kubeconfig() + `# ${"x".repeat(maxKubeconfigBytes)}\n`;
    expect(refusal(text).message).toMatch(/larger than/);
  });

  it("Given a billion-laughs alias bomb, should refuse it", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(i === 1 ? "*a" : `*a${i - 1}`)
          .join(", ")}]`,
      );
    expect(refusal(lines.join("\n")).field).toBe("kubeconfig");
  });
});

describe("parseInlineKubeconfig, property", () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9._~+/-]{16,64}$/);
  const refusedUser = fc.constantFrom(
    (s: string) => ({ token: s, exec: { command: "/bin/sh", args: ["-c", s] } }),
    (s: string) => ({ password: s, username: "u", "auth-provider": { name: "oidc", config: { "id-token": s } } }),
    (s: string) => ({ tokenFile: `/tmp/${s}` }),
    (s: string) => ({ "client-certificate": `/tmp/${s}`, "client-key-data": Buffer.from(s).toString("base64") }),
    (s: string) => ({ token: s, as: s }),
  );

  it("Given any refused user holding a secret, should name the field and never the secret", () => {
    fc.assert(
      fc.property(secret, refusedUser, (s, user) => {
        const err = refusal(kubeconfig(user(s)));
        expect(err.field).toMatch(/^user 'tenant' /);
        expect(err.message).not.toContain(s);
      }),
      { numRuns: 200 },
    );
  });

  it("Given malformed YAML anywhere after a secret, should never quote the secret", () => {
    fc.assert(
      fc.property(secret, fc.constantFrom(":", '"', "[", "{", "- x\n  y: :"), (s, junk) => {
        const text = kubeconfig({ token: s }).replace(`token: ${s}`, `token: "${s}\n${junk}`);
        let message = "";
        try {
          parseInlineKubeconfig(text);
        } catch (err) {
          message = (err as Error).message;
        }
        expect(message).not.toContain(s);
      }),
      { numRuns: 200 },
    );
  });
});
