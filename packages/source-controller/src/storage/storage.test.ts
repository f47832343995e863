import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StorageError } from "../errors.js";
import { useTempDirs } from "../testing/temp-dirs.js";
import { copyArtifactToPath } from "./include.js";
import { Storage } from "./storage.js";

const tmp = useTempDirs("storage");

const obj = { kind: "GitRepository", namespace: "ns", name: "app" };

describe("Storage", () => {
  it("Given an object / should lay artifacts out as <kind>/<namespace>/<name>/<file> with an http URL", async () => {
    const storage = new Storage({ root: await tmp(), advertisedAddress: "source-controller.flux-system.svc" });
    const path = storage.artifactPath(obj, "abc.tar.gz");
    expect(path).toBe("gitrepository/ns/app/abc.tar.gz");
    expect(storage.url(path)).toBe("http://source-controller.flux-system.svc/gitrepository/ns/app/abc.tar.gz");
  });

  it.each(["../../etc/passwd", "/etc/passwd/../../..", ".."])(
    "Given path %s / should refuse to leave the root",
    async (p) => {
      const storage = new Storage({ root: await tmp(), advertisedAddress: "x" });
      expect(() => storage.localPath(p)).toThrow(StorageError);
    },
  );

  it("Given an unwritable storage location / should fail with StorageOperationFailed", async () => {
    const root = await tmp();
    await writeFile(join(root, "gitrepository"), "a file where a directory must go");
    const src = await tmp();
    await writeFile(join(src, "a.yaml"), "a");
    const storage = new Storage({ root, advertisedAddress: "x" });
    const err = await storage.archive(storage.artifactPath(obj, "a.tar.gz"), src).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ condition: "StorageOperationFailed", reason: "DirectoryCreationFailed" });
  });

  it("Given old artifacts / should keep the current plus the newest within the record count and TTL", async () => {
    const storage = new Storage({
      root: await tmp(),
      advertisedAddress: "x",
      retentionRecords: 3,
      retentionTtlMs: 60_000,
    });
    const dir = storage.localPath(storage.objectDir(obj));
    await mkdir(dir, { recursive: true });
    const now = Date.now();
    const ages: Record<string, number> = {
      "cur.tar.gz": 0,
      "a.tar.gz": 10,
      "b.tar.gz": 20,
      "c.tar.gz": 30,
      "old.tar.gz": 120,
    };
    for (const [name, ageSeconds] of Object.entries(ages)) {
      await writeFile(join(dir, name), name);
      const t = new Date(now - ageSeconds * 1000);
      await utimes(join(dir, name), t, t);
    }
    const removed = await storage.garbageCollect(obj, storage.artifactPath(obj, "cur.tar.gz"), now);
    expect(removed.sort()).toEqual(["gitrepository/ns/app/c.tar.gz", "gitrepository/ns/app/old.tar.gz"]);
    expect((await readdir(dir)).sort()).toEqual(["a.tar.gz", "b.tar.gz", "cur.tar.gz"]);
    await storage.removeAll(obj);
    await expect(readdir(dir)).rejects.toThrow();
  });

  it("Given an included artifact / should copy its fromPath to toPath in the work dir", async () => {
    const storage = new Storage({ root: await tmp(), advertisedAddress: "x" });
    const src = await tmp();
    await mkdir(join(src, "manifests"), { recursive: true });
    await writeFile(join(src, "manifests", "a.yaml"), "a: 1\n");
    const path = storage.artifactPath(obj, "inc.tar.gz");
    await storage.archive(path, src);
    const work = await tmp();
    await copyArtifactToPath(storage, path, "manifests", work, "vendor/app");
    expect(await readdir(join(work, "vendor", "app"))).toEqual(["a.yaml"]);
    await expect(copyArtifactToPath(storage, path, "missing", work, "x")).rejects.toThrow(/does not exist/);
    // Like Flux's securejoin, a toPath climbing out is clamped to the work dir rather than followed.
    await copyArtifactToPath(storage, path, "manifests", work, "../../escape");
    expect(await readdir(join(work, "escape"))).toEqual(["a.yaml"]);
  });
});
