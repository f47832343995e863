// Go's proxy-from-environment rule, case by case: what a Flux Deployment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY mean.
import { describe, expect, it } from "vitest";
import { ProxyConfigError, proxyEnvironment, proxyFor, socksProxyFor } from "./env.js";

const via = (target: string, env: NodeJS.ProcessEnv) => proxyFor(target, proxyEnvironment(env))?.url.href;

describe("Given the environment's proxy variables", () => {
  it("should read upper case before lower case, and treat empty as unset", () => {
    expect(proxyEnvironment({ HTTPS_PROXY: "http://a:1", https_proxy: "http://b:1" }).httpsProxy).toBe("http://a:1");
    expect(proxyEnvironment({ HTTPS_PROXY: "", https_proxy: "http://b:1" }).httpsProxy).toBe("http://b:1");
    expect(proxyEnvironment({ no_proxy: ".svc" }).noProxy).toBe(".svc");
    expect(proxyEnvironment({})).toEqual({});
  });

  it("should use HTTPS_PROXY for https and HTTP_PROXY for http, and never proxy other schemes", () => {
    const env = { HTTPS_PROXY: "http://secure.proxy:3128", HTTP_PROXY: "http://plain.proxy:3128" };
    expect(via("https://github.com/org/repo", env)).toBe("http://secure.proxy:3128/");
    expect(via("http://github.com/org/repo", env)).toBe("http://plain.proxy:3128/");
    expect(via("ssh://git@github.com/org/repo", env)).toBeUndefined();
    expect(via("http://github.com/", { HTTPS_PROXY: "http://secure.proxy:3128" })).toBeUndefined();
  });

  it("should read a proxy without a scheme as an http:// proxy, and keep socks5", () => {
    expect(via("https://github.com/", { HTTPS_PROXY: "proxy.corp:3128" })).toBe("http://proxy.corp:3128/");
    expect(via("https://github.com/", { HTTPS_PROXY: "socks5://proxy.corp:1080" })).toBe("socks5://proxy.corp:1080");
  });

  it("should hand out the proxy's credentials apart, decoded, and not in the URL", () => {
    const p = proxyFor("https://github.com/", proxyEnvironment({ HTTPS_PROXY: "http://me:p%40ss@proxy:3128" }));
    expect(p).toMatchObject({ username: "me", password: "p@ss" });
    expect(p?.url.href).toBe("http://proxy:3128/");
    const odd = proxyFor("https://github.com/", proxyEnvironment({ HTTPS_PROXY: "http://me:50%zz@proxy:3128" }));
    expect(odd?.password).toBe("50%zz"); // a malformed escape is kept as written, not thrown
  });

  it("should refuse a proxy that is no URL, without echoing it", () => {
    const call = () => proxyFor("https://github.com/", proxyEnvironment({ HTTPS_PROXY: "http://[bad" }));
    expect(call).toThrow(ProxyConfigError);
    expect(call).toThrow("invalid proxy address in HTTPS_PROXY");
    expect(call).not.toThrow(/bad/);
    expect(() => proxyFor("https://x/", proxyEnvironment({ HTTPS_PROXY: "ftp://proxy:21" }))).toThrow(
      "unsupported proxy scheme 'ftp' in HTTPS_PROXY",
    );
  });

  it("should never proxy localhost or a loopback address", () => {
    const env = { HTTP_PROXY: "http://proxy:3128" };
    expect(via("http://localhost:8080/", env)).toBeUndefined();
    expect(via("http://127.0.0.1/", env)).toBeUndefined();
    expect(via("http://127.9.9.9:81/", env)).toBeUndefined();
    expect(via("http://[::1]:81/", env)).toBeUndefined();
    expect(via("http://localhost.example.com/", env)).toBe("http://proxy:3128/");
  });

  describe("and NO_PROXY", () => {
    const env = (noProxy: string) => ({
      HTTPS_PROXY: "http://proxy:3128",
      HTTP_PROXY: "http://proxy:3128",
      NO_PROXY: noProxy,
    });
    const cases: [string, string, boolean][] = [
      // [NO_PROXY, target, proxied]
      ["*", "https://github.com/", false],
      ["github.com", "https://github.com/", false],
      ["github.com", "https://api.github.com/", false],
      ["github.com", "https://notgithub.com/", true],
      [".github.com", "https://github.com/", true],
      [".github.com", "https://api.github.com/", false],
      ["*.github.com", "https://github.com/", true],
      ["*.github.com", "https://api.github.com/", false],
      ["GitHub.COM", "https://API.github.com/", false],
      ["github.com:443", "https://github.com/", false],
      ["github.com:8443", "https://github.com/", true],
      ["github.com:80", "http://github.com/", false],
      [" gitlab.com , github.com ", "https://github.com/", false],
      ["10.0.0.0/8", "http://10.96.0.1/", false],
      ["10.0.0.0/8", "http://11.0.0.1/", true],
      ["10.0.0.0/8", "http://ten.example/", true],
      ["10.96.0.1", "https://10.96.0.1:6443/", false],
      ["10.96.0.1:443", "https://10.96.0.1:6443/", true],
      ["fd00::/8", "http://[fd00::1]/", false],
      ["[fd00::1]:80", "http://[fd00::1]/", false],
      ["fd00::1", "http://[fd00::2]/", true],
      // Flux's documented NO_PROXY for in-cluster traffic, and the trailing dot on both sides
      [
        ".cluster.local.,.cluster.local,.svc",
        "http://source-controller.flux-system.svc.cluster.local./a.tar.gz",
        false,
      ],
      [".cluster.local.,.cluster.local,.svc", "http://source-controller.flux-system.svc/a.tar.gz", false],
      [".cluster.local.,.cluster.local,.svc", "https://github.com/org/repo", true],
      [".cluster.local", "http://a.svc.cluster.local./x", true],
      ["", "https://github.com/", true],
      [",,", "https://github.com/", true],
    ];
    it.each(cases)("NO_PROXY=%j, %s / proxied: %s", (noProxy, target, proxied) => {
      expect(via(target, env(noProxy)) !== undefined).toBe(proxied);
    });

    it("should read no_proxy when NO_PROXY is unset", () => {
      expect(via("https://github.com/", { HTTPS_PROXY: "http://proxy:3128", no_proxy: "github.com" })).toBeUndefined();
    });
  });
});

describe("Given ALL_PROXY (the SOCKS5 proxy Flux documents for Git over SSH)", () => {
  const socks = (host: string, env: NodeJS.ProcessEnv) => socksProxyFor(host, "22", proxyEnvironment(env))?.url.href;
  it("should use a socks5 or socks5h proxy, with its credentials apart", () => {
    expect(socks("github.com", { ALL_PROXY: "socks5://proxy:1080" })).toBe("socks5://proxy:1080");
    expect(socks("github.com", { all_proxy: "socks5h://proxy:1080" })).toBe("socks5h://proxy:1080");
    const p = socksProxyFor("github.com", "22", proxyEnvironment({ ALL_PROXY: "socks5://me:s%40c@proxy:1080" }));
    expect(p).toMatchObject({ username: "me", password: "s@c" });
  });
  it("should go direct for any other value, as Go falls back, and where NO_PROXY matches", () => {
    expect(socks("github.com", { ALL_PROXY: "http://proxy:3128" })).toBeUndefined();
    expect(socks("github.com", { ALL_PROXY: "http://[bad" })).toBeUndefined();
    expect(socks("github.com", {})).toBeUndefined();
    expect(socks("github.com", { ALL_PROXY: "socks5://proxy:1080", NO_PROXY: "github.com" })).toBeUndefined();
    expect(socks("git.corp", { ALL_PROXY: "socks5://proxy:1080", NO_PROXY: "github.com" })).toBe("socks5://proxy:1080");
  });
});
