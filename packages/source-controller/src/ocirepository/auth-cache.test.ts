// The process-wide registry auth cache: tokens live as long as the token service said (bounded), identities keep
// tenants apart, and the maps stay bounded.
import { describe, expect, it } from "vitest";
import { RegistryAuthCache } from "./auth-cache.js";

const creds = { username: "u", password: "p" };

describe("RegistryAuthCache", () => {
  it("Given expires_in / should keep the token until shortly before it expires, and 60 s without it", () => {
    let now = 0;
    const cache = new RegistryAuthCache({ now: () => now });
    const id = cache.identity({ plainHttp: false, host: "r.example", credentials: creds });
    cache.setToken(id, "repository:a:pull", "t1", 300);
    cache.setToken(id, "repository:b:pull", "t2", undefined);
    now = 50_000;
    expect(cache.token(id, "repository:a:pull")).toBe("t1");
    expect(cache.token(id, "repository:b:pull")).toBe("t2");
    now = 60_000;
    expect(cache.token(id, "repository:b:pull")).toBeUndefined();
    now = 296_000;
    expect(cache.token(id, "repository:a:pull")).toBeUndefined();
  });

  it("Given an absurd expires_in / should keep the token an hour at most", () => {
    let now = 0;
    const cache = new RegistryAuthCache({ now: () => now });
    cache.setToken("id", "s", "t", 1e12);
    now = 3_600_000;
    expect(cache.token("id", "s")).toBeUndefined();
  });

  it("Given other credentials, TLS settings or scheme / should give another identity", () => {
    const cache = new RegistryAuthCache();
    const base = { plainHttp: false, host: "r.example", credentials: creds };
    const id = cache.identity(base);
    expect(cache.identity({ ...base })).toBe(id);
    expect(cache.identity({ ...base, credentials: { username: "u", password: "q" } })).not.toBe(id);
    expect(cache.identity({ ...base, credentials: undefined })).not.toBe(id);
    expect(cache.identity({ ...base, tls: { ca: Buffer.from("other ca") } })).not.toBe(id);
    expect(cache.identity({ ...base, plainHttp: true })).not.toBe(id);
    expect(id).not.toContain("p");
  });

  it("Given more entries than its bound / should drop the oldest", () => {
    const cache = new RegistryAuthCache({ maxEntries: 2 });
    for (const n of ["a", "b", "c"]) {
      cache.setToken("id", n, `t-${n}`, 300);
      cache.setChallenge(n, { scheme: "basic" });
    }
    expect(cache.size).toEqual({ challenges: 2, tokens: 2 });
    expect(cache.token("id", "a")).toBeUndefined();
    expect(cache.token("id", "c")).toBe("t-c");
    expect(cache.challenge("a")).toBeUndefined();
  });
});
