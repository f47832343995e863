import { describe, expect, it } from "vitest";
import { isLoopback } from "./dashboard.js";
import { splitHostPort } from "./flags.js";

describe("--listen-addr and --insecure-local", () => {
  it.each([
    ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
    [":9090", { host: "0.0.0.0", port: 9090 }],
    ["[::1]:80", { host: "::1", port: 80 }],
  ])("should read %s", (addr, want) => {
    expect(splitHostPort(addr)).toEqual(want);
  });

  it("should refuse an address without a port", () => {
    expect(() => splitHostPort("localhost")).toThrow(/host:port/);
  });

  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["localhost", true],
    ["0.0.0.0", false],
    ["10.0.0.1", false],
    ["::", false],
  ])("should take %s as loopback: %s", (host, want) => {
    expect(isLoopback(host)).toBe(want);
  });
});
