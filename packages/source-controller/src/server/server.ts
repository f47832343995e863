// The artifact HTTP server: GET and HEAD of files under the storage root, nothing else. Request paths are decoded
// once, normalized, and must stay inside the root after symlinks are resolved, so neither "../", its encodings, nor a
// symlink planted in storage can reach other files.
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAbsolute, relative, resolve, sep } from "node:path";

export interface ArtifactServerOptions {
  /** Storage root to serve. */
  root: string;
  /** host:port to listen on (--storage-addr, e.g. ":9090" or "127.0.0.1:0"). */
  address: string;
  /** Called on request errors (logging); never receives file contents. */
  onError?: (err: Error) => void;
}

export interface ArtifactServer {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

const contentTypes: [string, string][] = [
  [".tar.gz", "application/gzip"],
  [".tgz", "application/gzip"],
  [".gz", "application/gzip"],
  [".json", "application/json"],
  [".yaml", "application/yaml"],
  [".txt", "text/plain; charset=utf-8"],
];

export function contentTypeFor(path: string): string {
  return contentTypes.find(([ext]) => path.endsWith(ext))?.[1] ?? "application/octet-stream";
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The file a request path names, or undefined when it is not a servable file under the root. */
export async function resolveRequestPath(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  if (decoded.split("/").some((seg) => seg === ".." || seg === ".")) return undefined;
  const realRoot = await realpath(root);
  const candidate = resolve(realRoot, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
  if (!inside(realRoot, candidate)) return undefined;
  const real = await realpath(candidate).catch(() => undefined);
  if (!real || !inside(realRoot, real)) return undefined;
  const st = await stat(real).catch(() => undefined);
  return st?.isFile() ? real : undefined;
}

function parseAddress(address: string): { host?: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = i > 0 ? address.slice(0, i).replace(/^\[|\]$/g, "") : undefined;
  const port = Number(i >= 0 ? address.slice(i + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid storage address '${address}'`);
  return host ? { host, port } : { port };
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
    return;
  }
  const urlPath = (req.url ?? "/").split("?")[0] ?? "/";
  const file = await resolveRequestPath(root, urlPath);
  if (!file) {
    res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
    return;
  }
  const st = await stat(file);
  res.writeHead(200, {
    "content-type": contentTypeFor(file),
    "content-length": String(st.size),
    "last-modified": st.mtime.toUTCString(),
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res);
}

export async function startArtifactServer(options: ArtifactServerOptions): Promise<ArtifactServer> {
  const root = resolve(options.root);
  const server = createServer((req, res) => {
    handle(root, req, res).catch((err: unknown) => {
      options.onError?.(err instanceof Error ? err : new Error(String(err)));
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
      else res.destroy();
    });
  });
  const { host, port } = parseAddress(options.address);
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      ok();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
