// Webhook signature checks, constant-time. `<algo>=<hex>` as GitHub, Bitbucket Server and Flux's generic-hmac use.
import { createHmac, timingSafeEqual } from "node:crypto";

const algorithms: Record<string, string> = { sha1: "sha1", sha256: "sha256", sha512: "sha512" };

export class SignatureError extends Error {
  override readonly name = "SignatureError";
}

/** Throws SignatureError unless `signature` is a valid `<algo>=<hex>` HMAC of `body` keyed by `key`. */
export function verifyHmacSignature(signature: string | undefined, body: Buffer, key: string): void {
  if (!signature) throw new SignatureError("missing signature");
  const eq = signature.indexOf("=");
  const algo = algorithms[signature.slice(0, eq).toLowerCase()];
  if (eq < 0 || !algo) throw new SignatureError("unknown signature algorithm");
  const given = Buffer.from(signature.slice(eq + 1), "hex");
  const expected = createHmac(algo, key).update(body).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SignatureError("payload signature does not match");
  }
}

/** Compares secrets without leaking, through timing, how much of a guess was right. */
export function constantTimeEqual(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Equal-length comparison always runs, so an early length mismatch returns in about the same time.
  const same = timingSafeEqual(x.length === y.length ? x : y, y);
  return x.length === y.length && same;
}
