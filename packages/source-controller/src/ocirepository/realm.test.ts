// Where a Bearer challenge may send the credentials: https (http only for an insecure registry), another host allowed,
// loopback, link-local and metadata addresses only when they are the registry's own host.
import { describe, expect, it } from "vitest";
import { checkRealm } from "./realm.js";

describe("checkRealm", () => {
  it.each([
    ["https on another host", "https://auth.docker.io/token", "registry-1.docker.io", false],
    ["https on the registry's own loopback host", "https://127.0.0.1:5001/token", "127.0.0.1:5000", false],
    ["http for an insecure registry", "http://registry.local:5001/token", "registry.local:5000", true],
    ["a host name (its addresses are checked on connect)", "https://localhost:5001/token", "127.0.0.1:5000", false],
    ["a private address (in-cluster token services)", "https://10.0.0.7/token", "registry.example.com", false],
    ["a private IPv6 address", "https://[fd00::1]/token", "registry.example.com", false],
  ])("Given %s / should accept it", (_, realm, host, plainHttp) => {
    expect(checkRealm(realm, host, plainHttp).toString()).toBe(realm);
  });

  it.each([
    ["http for an https registry", "http://auth.example.com/token", "registry.example.com", false, /over https only/],
    ["a scheme other than http(s)", "file:///etc/passwd", "registry.example.com", false, /scheme 'file:'/],
    ["the metadata service", "https://169.254.169.254/token", "registry.example.com", false, /metadata address/],
    ["another loopback address", "https://127.0.0.2/token", "127.0.0.1:5000", false, /metadata address/],
    ["a mapped loopback IPv4", "https://[::ffff:127.0.0.1]/token", "registry.example.com", false, /metadata address/],
    ["AWS's IPv6 metadata", "https://[fd00:ec2::254]/token", "registry.example.com", false, /metadata address/],
    ["credentials in the URL", "https://u:p@auth.example.com/", "registry.example.com", false, /credentials in it/],
    ["no URL at all", "not a url", "registry.example.com", false, /invalid token realm/],
  ])("Given %s / should refuse it", (_, realm, host, plainHttp, message) => {
    expect(() => checkRealm(realm, host, plainHttp)).toThrow(message);
  });
});
