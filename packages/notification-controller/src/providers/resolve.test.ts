import type { Provider } from "@capstan/api";
import { describe, expect, it } from "vitest";
import { ProviderResolutionError, resolveProvider, type SecretReader } from "./resolve.js";

function provider(spec: Partial<Provider["spec"]>): Provider {
  return {
    apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
    kind: "Provider",
    metadata: { name: "p", namespace: "apps", uid: "u-1" },
    spec: { type: "generic", ...spec },
  };
}

const secrets =
  (all: Record<string, Record<string, string>>): SecretReader =>
  (namespace, name) =>
    all[`${namespace}/${name}`];

describe("resolveProvider", () => {
  it("Given a secretRef with address, token, credentials and headers / should take them over the spec", () => {
    const settings = resolveProvider(
      provider({ address: "https://spec.example.com", username: "spec-user", secretRef: { name: "creds" } }),
      secrets({
        "apps/creds": {
          address: "https://secret.example.com/hook\n",
          token: "t0ken",
          username: "bot",
          password: "pw",
          from: "flux@example.com\n",
          headers: "X-A: one\nX-B: 2\n",
        },
      }),
    );
    expect(settings).toEqual({
      type: "generic",
      uid: "u-1",
      timeoutMs: 15_000,
      address: "https://secret.example.com/hook",
      username: "bot",
      token: "t0ken",
      password: "pw",
      from: "flux@example.com",
      headers: { "X-A": "one", "X-B": "2" },
    });
  });

  it("Given certSecretRef and proxySecretRef / should read ca.crt and build the proxy URL with its credentials", () => {
    const settings = resolveProvider(
      provider({ address: "https://x", timeout: "30s", certSecretRef: { name: "ca" }, proxySecretRef: { name: "px" } }),
      secrets({
        "apps/ca": { "ca.crt": "-----BEGIN CERTIFICATE-----" },
        "apps/px": { address: "http://proxy.local:3128", username: "u@x", password: "p:w" },
      }),
    );
    expect(settings.caCert).toBe("-----BEGIN CERTIFICATE-----");
    expect(settings.proxy).toBe("http://u%40x:p%3Aw@proxy.local:3128/");
    expect(settings.timeoutMs).toBe(30_000);
  });

  it.each<[string, Partial<Provider["spec"]>, Record<string, Record<string, string>>, string]>([
    ["a missing secretRef Secret", { secretRef: { name: "gone" } }, {}, "spec.secretRef: Secret 'apps/gone' not found"],
    [
      "a cert Secret without ca.crt",
      { certSecretRef: { name: "ca" } },
      { "apps/ca": { "tls.crt": "x" } },
      "spec.certSecretRef: no 'ca.crt' key in Secret 'apps/ca'",
    ],
    [
      "a proxy Secret without address",
      { proxySecretRef: { name: "px" } },
      { "apps/px": { username: "u" } },
      "spec.proxySecretRef: no 'address' key in Secret 'apps/px'",
    ],
    [
      "headers that are not a map",
      { secretRef: { name: "h" } },
      { "apps/h": { headers: "- a\n- b\n" } },
      "invalid 'headers' in Secret 'apps/h': not a YAML map",
    ],
  ])("Given %s / should fail with a message naming what to fix", (_name, spec, all, message) => {
    const run = () => resolveProvider(provider(spec), secrets(all));
    expect(run).toThrow(ProviderResolutionError);
    expect(run).toThrow(message);
  });

  it("Given secret values / should never put them in an error message", () => {
    const run = () =>
      resolveProvider(
        provider({ secretRef: { name: "h" } }),
        secrets({ "apps/h": { headers: "[unclosed s3cr3t-value", token: "s3cr3t-token" } }),
      );
    expect(run).toThrow(ProviderResolutionError);
    try {
      run();
    } catch (err) {
      expect((err as Error).message).not.toContain("s3cr3t");
    }
  });
});
