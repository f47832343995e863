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

describe("ArtifactShare", () => {
  it("Given a built archive / linkTo should give another object its own path to the same file", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    const key = ArtifactShare.key("cache-key", "abc", undefined);
    share.begin(key)(entry);
    const dest = "gitrepository/ns/second/abc.tar.gz";
    expect(await share.linkTo(key, storage, dest)).toEqual(entry);
    expect(await readFile(storage.localPath(dest), "utf8")).toBe("archive bytes");
    const [a, b] = await Promise.all([stat(storage.localPath(entry.path)), stat(storage.localPath(dest))]);
    expect(b.ino).toBe(a.ino);
    // Another key (credentials, commit or spec.ignore differ): nothing to share.
    expect(await share.linkTo(ArtifactShare.key("other-creds", "abc", undefined), storage, dest)).toBeUndefined();
    expect(await share.linkTo(ArtifactShare.key("cache-key", "abc", "*.md"), storage, dest)).toBeUndefined();
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

  it("Given a shared file corrupted on disk / linkTo should refuse it and forget it", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    share.remember("k", entry);
    await writeFile(storage.localPath(entry.path), "tampered bytes");
    expect(await share.linkTo("k", storage, "gitrepository/ns/second/abc.tar.gz")).toBeUndefined();
    await expect(stat(storage.localPath("gitrepository/ns/second/abc.tar.gz"))).rejects.toThrow();
    expect(await share.lookup("k")).toBeUndefined();
  });

  it("Given a removed shared file / linkTo should let the caller build its own", async () => {
    const { storage, entry } = await storageWithArtifact();
    const share = new ArtifactShare();
    share.remember("k", entry);
    await rm(storage.localPath(entry.path));
    expect(await share.linkTo("k", storage, "gitrepository/ns/second/abc.tar.gz")).toBeUndefined();
  });
});
