// Where a registry's Bearer challenge may send the controller for a token, with the registry's credentials. The realm
// is chosen by the registry (a network peer), so it is checked before anything is sent to it, by the rules the
// distribution spec's clients follow (docker, oras-go, and so Flux):
// - https always; plain http only when the registry itself is spoken to over plain http (spec.insecure): never a TLS
//   downgrade for the credentials;
// - another host than the registry's is allowed (Docker Hub's realm is auth.docker.io), but not one that is, or resolves
//   to, a loopback, link-local, unspecified or cloud metadata address, unless it is the registry's own host name: a
//   registry must not turn the controller into a client of the node's metadata service or of its own loopback. The
//   resolved addresses are checked when the connection is made (realmLookup), so a name that resolves elsewhere on a
//   second lookup (DNS rebinding) is caught too. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed,
//   as oras-go allows them by default: in-cluster registries have their token services there.
import { type LookupAddress, type LookupAllOptions, type LookupOneOptions, lookup } from "node:dns";
import { BlockList, isIP } from "node:net";
import { OciError } from "./errors.js";

/** Addresses a token realm on another host than the registry's may not be, or resolve to. */
export function defaultBlockedRealmAddresses(): BlockList {
  const b = new BlockList();
  b.addSubnet("127.0.0.0", 8, "ipv4");
  b.addSubnet("0.0.0.0", 8, "ipv4");
  b.addSubnet("169.254.0.0", 16, "ipv4");
  b.addSubnet("224.0.0.0", 24, "ipv4");
  b.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud metadata
  b.addAddress("168.63.129.16", "ipv4"); // Azure wireserver
  b.addAddress("::1", "ipv6");
  b.addAddress("::", "ipv6");
  b.addSubnet("fe80::", 10, "ipv6");
  b.addSubnet("ff02::", 16, "ipv6");
  b.addAddress("fd00:ec2::254", "ipv6"); // AWS metadata over IPv6
  return b;
}

const defaultBlocked = defaultBlockedRealmAddresses();

/** Whether `address` (an IP literal) is blocked; IPv4-mapped IPv6 addresses are checked as their IPv4 address. */
export function isBlockedAddress(address: string, blocked: BlockList = defaultBlocked): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 4) return blocked.check(bare, "ipv4");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  return mapped ? blocked.check(mapped, "ipv4") : blocked.check(bare, "ipv6");
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for the connection to a token realm on another host than the registry's: the name's addresses are
 * checked as they are used, and a blocked one fails the connection with a message naming it.
 */
export function realmLookup(blocked: BlockList = defaultBlocked) {
  return (hostname: string, options: LookupAllOptions | LookupOneOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      const bad = addresses.find((a) => isBlockedAddress(a.address, blocked));
      if (bad) {
        const e: NodeJS.ErrnoException = new Error(
          `token realm host '${hostname}' resolves to ${bad.address}, a loopback, link-local or metadata address`,
        );
        e.code = "EREALMBLOCKED";
        return callback(e, "");
      }
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "");
      callback(null, first.address, first.family);
    });
  };
}

/** Whether a realm is on the registry's own host name (then its addresses are the registry's: not checked). */
export function sameHost(realm: URL, registryHost: string): boolean {
  return realm.hostname.toLowerCase() === new URL(`http://${registryHost}`).hostname.toLowerCase();
}

/** The realm URL of a Bearer challenge from `registryHost` (host[:port]), or an OciError saying why not. */
export function checkRealm(
  realm: string,
  registryHost: string,
  plainHttp: boolean,
  blocked: BlockList = defaultBlocked,
): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (cause) {
    throw new OciError("auth", `registry ${registryHost} named an invalid token realm`, { cause });
  }
  if (url.protocol === "http:") {
    if (!plainHttp) {
      throw new OciError(
        "auth",
        `registry ${registryHost} named a plain-http token realm (${url.host}) for an https registry: credentials are sent to a realm over https only, or over http with spec.insecure`,
      );
    }
  } else if (url.protocol !== "https:") {
    throw new OciError("auth", `registry ${registryHost} named a token realm with scheme '${url.protocol}'`);
  }
  if (url.username || url.password) {
    throw new OciError("auth", `registry ${registryHost} named a token realm with credentials in it`);
  }
  if (!sameHost(url, registryHost) && isBlockedAddress(url.hostname, blocked)) {
    throw new OciError(
      "auth",
      `registry ${registryHost} named a token realm on ${url.hostname}, a loopback, link-local or metadata address that is not the registry's own host`,
    );
  }
  return url;
}
