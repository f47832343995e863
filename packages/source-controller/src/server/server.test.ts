import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArtifactServer, startArtifactServer } from "./server.js";

let base: string;
let server: ArtifactServer;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "capstan-server-"));
  await mkdir(join(base, "storage", "gitrepository", "ns", "app"), { recursive: true });
  await writeFile(join(base, "storage", "gitrepository", "ns", "app", "abc.tar.gz"), "artifact-bytes");
  await writeFile(join(base, "secret.txt"), "outside-the-root");
  await symlink(join(base, "secret.txt"), join(base, "storage", "gitrepository", "ns", "app", "link.tar.gz"));
  server = await startArtifactServer({ root: join(base, "storage"), address: "127.0.0.1:0" });
});

afterAll(async () => {
  await server.close();
  await rm(base, { recursive: true, force: true });
});

function call(
  method: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port: server.port, method, path }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("artifact server", () => {
  it("Given a stored artifact / should serve it with content type and length", async () => {
    const res = await call("GET", "/gitrepository/ns/app/abc.tar.gz");
    expect(res.status).toBe(200);
    expect(res.body).toBe("artifact-bytes");
    expect(res.headers["content-type"]).toBe("application/gzip");
    expect(res.headers["content-length"]).toBe("14");
  });

  it("Given HEAD / should answer headers without a body", async () => {
    const res = await call("HEAD", "/gitrepository/ns/app/abc.tar.gz");
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe("14");
    expect(res.body).toBe("");
  });

  it.each([
    "/../secret.txt",
    "/gitrepository/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/gitrepository/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/..%2fsecret.txt",
    "/gitrepository/ns/app/link.tar.gz",
    "/gitrepository/ns/app",
    "/%00",
    "/%E0%A4%A",
  ])("Given request path %s / should not serve anything outside the root", async (path) => {
    const res = await call("GET", path);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain("outside-the-root");
  });

  it("Given a method other than GET or HEAD / should refuse it", async () => {
    expect((await call("DELETE", "/gitrepository/ns/app/abc.tar.gz")).status).toBe(405);
  });
});
