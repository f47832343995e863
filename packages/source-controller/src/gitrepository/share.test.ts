import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Storage } from "../storage/storage.js";
import { ArtifactShare, type SharedArtifact } from "./share.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function storageWithArtifact(): Promise<{ storage: Storage; entry: SharedArtifact }> {
  const root = await mkdtemp(join(tmpdir(), "capstan-share-test-"));
  dirs.push(root);
  const storage = new Storage({ root, advertisedAddress: "localhost" });
  const path = "gitrepository/ns/first/abc.tar.gz";
  await mkdir(join(root, "gitrepository/ns/first"), { recursive: true });
  await writeFile(join(root, path), "archive bytes");
  const digest = `sha256:${createHash("sha256").update("archive bytes").digest("hex")}`;
  return { storage, entry: { path, digest, size: 13, commit: "abc", subject: "first" } };
}

/** linkOrBegin as "the linked archive, or undefined" (a claimed build is ended at once, as failed). */
async function linkVia(share: ArtifactShare, key: string, storage: Storage, dest: string) {
  const r = await share.linkOrBegin(key, storage, dest);
  if ("end" in r) {
    r.end();
    return undefined;
  }
  return r.linked;
}

describe("ArtifactShare", () => {
  it("Given callers arriving in the same tick / linkOrBegin should make one builder and link its archive to the rest", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    const dests = ["second", "third", "fourth"].map((n) => `gitrepository/ns/${n}/abc.tar.gz`);
    const firstCall = share.linkOrBegin("k", storage, entry.path);
    const rest = dests.map((d) => share.linkOrBegin("k", storage, d));
    const first = await firstCall;
    expect("end" in first).toBe(true); // the first caller builds...
    if ("end" in first) first.end(entry); // ...and ends its build with the archive
    for (const r of await Promise.all(rest)) expect(r).toEqual({ linked: entry });
    const inodes = await Promise.all([entry.path, ...dests].map(async (p) => (await stat(storage.localPath(p))).ino));
    expect(new Set(inodes).size).toBe(1);
  });

  it("Given a built archive / linkOrBegin should give another object its own path to the same file", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    const key = ArtifactShare.key("cache-key", "abc", undefined);
    share.begin(key)(entry);
    const dest = "gitrepository/ns/second/abc.tar.gz";
    expect(await linkVia(share, key, storage, dest)).toEqual(entry);
    expect(await readFile(storage.localPath(dest), "utf8")).toBe("archive bytes");
    const [a, b] = await Promise.all([stat(storage.localPath(entry.path)), stat(storage.localPath(dest))]);
    expect(b.ino).toBe(a.ino);
    // Another key (credentials, commit or spec.ignore differ): nothing to share.
    expect(await linkVia(share, ArtifactShare.key("other-creds", "abc", undefined), storage, dest)).toBeUndefined();
    expect(await linkVia(share, ArtifactShare.key("cache-key", "abc", "*.md"), storage, dest)).toBeUndefined();
  });

  it("Given a build in progress / lookups should wait for it, and build their own if it fails", async () => {
    const { entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    const end = share.begin("k");
    const waiting = share.lookup("k");
    end(entry);
    end(); // a second end (the end of pass) changes nothing
    expect(await waiting).toEqual(entry);
    const failed = share.begin("k2");
    const waiting2 = share.lookup("k2");
    failed();
    expect(await waiting2).toBeUndefined();
    expect(await share.lookup("k2")).toBeUndefined();
  });

  it("Given a shared file corrupted on disk / linkOrBegin should refuse it and forget it", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    share.remember("k", entry);
    await writeFile(storage.localPath(entry.path), "tampered bytes");
    expect(await linkVia(share, "k", storage, "gitrepository/ns/second/abc.tar.gz")).toBeUndefined();
    await expect(stat(storage.localPath("gitrepository/ns/second/abc.tar.gz"))).rejects.toThrow();
    expect(await share.lookup("k")).toBeUndefined();
  });

  it("Given a removed shared file / linkOrBegin should let the caller build its own", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    share.remember("k", entry);
    await rm(storage.localPath(entry.path));
    expect(await linkVia(share, "k", storage, "gitrepository/ns/second/abc.tar.gz")).toBeUndefined();
  });
});
