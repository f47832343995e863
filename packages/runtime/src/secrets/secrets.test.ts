import { describe, expect, it } from "vitest";
import { MemoryClient } from "../testing/memory-client.js";
import {
  cachedSecret,
  decodeSecretData,
  decodeSecretStrings,
  readSecret,
  readSecretData,
  SecretReadError,
  secretType,
} from "./secrets.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "creds", namespace: "ns" },
  data: { username: b64("git"), password: b64("s3cr3t-value") },
};

describe("Secret reading", () => {
  it("Given base64 data / should decode to bytes and to text", () => {
    expect(decodeSecretData(secret.data).password?.toString()).toBe("s3cr3t-value");
    expect(decodeSecretStrings(secret.data)).toEqual({ username: "git", password: "s3cr3t-value" });
    expect(decodeSecretData(undefined)).toEqual({});
  });

  it("Given a Secret that exists / should read it through the client and from a cache", async () => {
    const client = new MemoryClient();
    client.seed(secret);
    expect(
      (await readSecretData(client, { namespace: "ns", name: "creds" }, "authentication")).username?.toString(),
    ).toBe("git");
    expect(cachedSecret(client.cache(secretType), { namespace: "ns", name: "creds" }, "token").data).toEqual(
      secret.data,
    );
  });

  it("Given a missing Secret / should say which, and that it is missing, without any data", async () => {
    const client = new MemoryClient();
    const err = await readSecret(client, { namespace: "ns", name: "nope" }, "authentication").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretReadError);
    expect(err).toMatchObject({ message: "authentication secret 'ns/nope' not found", notFound: true });
    expect(() => cachedSecret(client.cache(secretType), { namespace: "ns", name: "nope" }, "token")).toThrow(
      "token secret 'ns/nope' not found",
    );
  });

  it("Given a read that fails / should name the Secret, keep the cause, and not claim it is missing", async () => {
    const cause = new Error("Forbidden");
    const failing = { get: () => Promise.reject(cause) };
    const err = (await readSecret(failing, { namespace: "ns", name: "creds" }, "proxy").catch(
      (e: unknown) => e,
    )) as SecretReadError;
    expect(err).toMatchObject({ message: "failed to get proxy secret 'ns/creds'", notFound: false });
    expect(err.cause).toBe(cause);
  });
});
