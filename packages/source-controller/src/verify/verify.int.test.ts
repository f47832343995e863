// Signature verification with real gpg and ssh-keygen (through git verify-commit / verify-tag).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createKeyStore,
  createTestRepo,
  type GitHttpServer,
  type KeyStore,
  type PgpKey,
  type SshKeyPair,
  startGitHttpServer,
  type TestRepo,
} from "@capstan/gitserver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerificationError } from "../errors.js";
import { fetchSource } from "../git/source.js";
import { verifyCheckout } from "./verify.js";

let root: string;
let out: string;
let keys: KeyStore;
let pgp: PgpKey;
let otherPgp: PgpKey;
let ssh: SshKeyPair;
let otherSsh: SshKeyPair;
let server: GitHttpServer;
let repo: TestRepo;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-verify-root-"));
  out = await mkdtemp(join(tmpdir(), "capstan-verify-out-"));
  keys = await createKeyStore();
  [pgp, otherPgp, ssh, otherSsh] = await Promise.all([
    keys.pgpKey(),
    keys.pgpKey("Other"),
    keys.sshKey(),
    keys.sshKey(),
  ]);
  server = await startGitHttpServer({ root });
  repo = await createTestRepo(root, "signed.git", "main");
  await repo.commit({ "a.yaml": "a: 1\n" }, { sign: { pgp } });
  await repo.tag("v1.0.0", { sign: { pgp } });
  await repo.branch("ssh");
  await repo.commit({ "a.yaml": "a: ssh\n" }, { sign: { ssh } });
  await repo.tag("v2.0.0", { sign: { ssh } });
  await repo.branch("unsigned");
  await repo.commit({ "a.yaml": "a: unsigned\n" });
  await repo.tag("v3.0.0");
}, 120_000);

afterAll(async () => {
  await server?.close();
  await keys?.dispose();
  await rm(root, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
  await rm(repo?.work ?? "/nonexistent", { recursive: true, force: true });
});

const checkout = (ref: { branch?: string; tag?: string }) =>
  fetchSource({ url: `${server.url}/signed.git`, ref }, join(out, `co-${n++}`));
const pgpKeys = (k: PgpKey) => ({ "author.asc": Buffer.from(k.publicKey) });
const sshKeys = (k: SshKeyPair) => ({ "author.sshpub": Buffer.from(k.publicKey) });

describe("verifyCheckout", () => {
  it("Given a PGP-signed HEAD and the author's key / should verify and name the key", async () => {
    const co = await checkout({ branch: "main" });
    const message = await verifyCheckout(co, "HEAD", pgpKeys(pgp));
    expect(message).toContain(`commit '${co.revision}' with key '${pgp.fingerprint}'`);
  });

  it("Given a PGP-signed HEAD and another key / should fail with VerificationError", async () => {
    const co = await checkout({ branch: "main" });
    const err = await verifyCheckout(co, "HEAD", pgpKeys(otherPgp)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect(err).toMatchObject({ condition: "SourceVerified", reason: "VerificationError" });
    expect((err as Error).message).toMatch(/no key in the verification Secret matches/);
  });

  it("Given an SSH-signed HEAD and the author's key / should verify it", async () => {
    const co = await checkout({ branch: "ssh" });
    const message = await verifyCheckout(co, "head", sshKeys(ssh));
    expect(message).toMatch(/with key 'SHA256:/);
  });

  it("Given an SSH-signed HEAD and another SSH key / should fail", async () => {
    const co = await checkout({ branch: "ssh" });
    await expect(verifyCheckout(co, "HEAD", sshKeys(otherSsh))).rejects.toBeInstanceOf(VerificationError);
  });

  it("Given an unsigned HEAD / should fail saying it is not signed", async () => {
    const co = await checkout({ branch: "unsigned" });
    await expect(verifyCheckout(co, "HEAD", { ...pgpKeys(pgp), ...sshKeys(ssh) })).rejects.toThrow(/not signed/);
  });

  it("Given mode TagAndHEAD on a signed tag of a signed commit / should verify both", async () => {
    const co = await checkout({ tag: "v1.0.0" });
    const message = await verifyCheckout(co, "TagAndHEAD", pgpKeys(pgp));
    expect(message).toContain("- tag 'v1.0.0@sha1:");
    expect(message).toContain("- commit 'v1.0.0@sha1:");
  });

  it("Given mode Tag on an SSH-signed tag / should verify the tag", async () => {
    const co = await checkout({ tag: "v2.0.0" });
    expect(await verifyCheckout(co, "Tag", sshKeys(ssh))).toContain("tag 'v2.0.0@sha1:");
  });

  it("Given mode Tag on a lightweight tag / should fail", async () => {
    const co = await checkout({ tag: "v3.0.0" });
    await expect(verifyCheckout(co, "Tag", pgpKeys(pgp))).rejects.toThrow(/lightweight/);
  });

  it("Given mode Tag with a branch reference / should stall", async () => {
    const co = await checkout({ branch: "main" });
    await expect(verifyCheckout(co, "Tag", pgpKeys(pgp))).rejects.toMatchObject({ stalling: true });
  });

  it("Given a Secret without keys / should say how to store them", async () => {
    const co = await checkout({ branch: "main" });
    await expect(verifyCheckout(co, "HEAD", { other: Buffer.from("x") })).rejects.toThrow(/\.asc.*\.sshpub/);
  });
});
