// A real Helm chart repository for tests and the demo: charts packaged by the pinned `helm package`, the index written
// by `helm repo index`, served from a directory by a Node HTTP(S) server on loopback, with optional basic auth and
// client-certificate (mTLS) checks. Tests can also place hand-made files (a tarball that is not a chart, an oversized
// chart) and index entries pointing at them, or make the server stop answering.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, normalize, sep } from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";

const run = promisify(execFile);

export interface HelmRepoServerOptions {
  basicAuth?: { username: string; password: string };
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requireClientCert?: boolean };
  /** The helm binary; the pinned one from tools/cluster when unset. */
  helm?: string;
  /** Write absolute chart URLs (`helm repo index --url`) instead of URLs relative to the index. */
  absoluteUrls?: boolean;
}

/** A chart to package: Chart.yaml fields plus the files under the chart directory. */
export interface ChartSpec {
  name: string;
  version: string;
  appVersion?: string;
  /** values.yaml; a small default when unset. */
  values?: string;
  /** Other files by path relative to the chart directory, e.g. {"templates/cm.yaml": "..."}. */
  files?: Record<string, string>;
}

/** An index entry for a file the test placed itself (see placeFile). */
export interface RawEntry {
  name: string;
  version: string;
  /** Path of the file relative to the repository root. */
  file: string;
}

export interface HelmRepoServer {
  /** The repository URL (index at <url>/index.yaml). */
  url: string;
  /** The directory served. */
  dir: string;
  /** Requests seen (method, path, whether they carried the right credentials). */
  requests: { method: string; path: string; authorized: boolean }[];
  /** Packages the chart with `helm package`, adds it to the repository and re-indexes; resolves to the tgz name. */
  publish(chart: ChartSpec): Promise<string>;
  /** Writes a file under the repository root as is (no re-index). */
  placeFile(path: string, content: string | Buffer): Promise<void>;
  /** Adds index entries for placed files and re-indexes (they stay in later indexes). */
  addRawEntries(entries: RawEntry[]): Promise<void>;
  /** Removes every published chart version of `name` and re-indexes. */
  unpublish(name: string, version: string): Promise<void>;
  /** While true, the server accepts connections and never answers (a hung repository). */
  setStalled(stalled: boolean): void;
  close(): Promise<void>;
}

function chartYaml(c: ChartSpec): string {
  const lines = ["apiVersion: v2", `name: ${c.name}`, `version: ${c.version}`, "type: application"];
  if (c.appVersion) lines.push(`appVersion: "${c.appVersion}"`);
  return `${lines.join("\n")}\n`;
}

const defaultTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
data:
  message: {{ .Values.message | quote }}
`;

export async function startHelmRepoServer(options: HelmRepoServerOptions = {}): Promise<HelmRepoServer> {
  const helm = options.helm ?? (await ensureBinaries()).bin.helm;
  const base = await mkdtemp(join(tmpdir(), "capstan-helm-repo-"));
  const dir = join(base, "repo");
  const work = join(base, "work");
  const home = join(base, "helm-home");
  await Promise.all([mkdir(dir), mkdir(work), mkdir(home)]);
  // helm keeps its config and caches out of the developer's home.
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_DATA_HOME: join(home, "data"),
  };
  const raw: RawEntry[] = [];
  const requests: HelmRepoServer["requests"] = [];
  let stalled = false;
  const sockets = new Set<Socket>();

  const authorized = (req: IncomingMessage) => {
    if (!options.basicAuth) return true;
    const { username, password } = options.basicAuth;
    return req.headers.authorization === `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const ok = authorized(req);
    requests.push({ method: req.method ?? "", path: req.url ?? "", authorized: ok });
    if (stalled) return;
    if (options.tls?.requireClientCert && !(req.socket as TLSSocket).authorized) {
      res.writeHead(403).end("client certificate required\n");
      return;
    }
    if (!ok) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="capstan-helm"' }).end("unauthorized\n");
      return;
    }
    void serveFile(req, res);
  };

  const serveFile = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error("not a file");
      const type = file.endsWith(".yaml") ? "application/x-yaml" : "application/gzip";
      res.writeHead(200, { "content-type": type, "content-length": st.size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end("not found\n");
    }
  };

  const server = options.tls
    ? createHttpsServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.ca ? { ca: options.tls.ca } : {}),
          requestCert: options.tls.requireClientCert ?? false,
          rejectUnauthorized: false,
        },
        handler,
      )
    : createHttpServer(handler);
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  server.on("connection", track);
  server.on("secureConnection", track);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;

  const reindex = async () => {
    const args = ["repo", "index", dir];
    if (options.absoluteUrls) args.push("--url", url);
    if (raw.length > 0) {
      // JSON is YAML: the hand-made entries become an index that `helm repo index --merge` keeps.
      const entries: Record<string, unknown[]> = {};
      for (const e of raw) {
        const target = options.absoluteUrls ? `${url}/${e.file}` : e.file;
        const list = entries[e.name] ?? [];
        list.push({ apiVersion: "v2", name: e.name, version: e.version, urls: [target] });
        entries[e.name] = list;
      }
      const extra = join(work, "raw-index.yaml");
      await writeFile(extra, JSON.stringify({ apiVersion: "v1", entries }));
      args.push("--merge", extra);
    }
    await run(helm, args, { env, timeout: 60_000 });
  };

  return {
    url,
    dir,
    requests,
    async publish(chart) {
      const chartDir = join(work, `${chart.name}-${chart.version}`, chart.name);
      await rm(dirname(chartDir), { recursive: true, force: true });
      const files: Record<string, string> = {
        "Chart.yaml": chartYaml(chart),
        "values.yaml": chart.values ?? "message: hello\n",
        "templates/configmap.yaml": defaultTemplate,
        ...chart.files,
      };
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(chartDir, path)), { recursive: true });
        await writeFile(join(chartDir, path), content);
      }
      try {
        await run(helm, ["package", chartDir, "--destination", dir], { env, timeout: 60_000 });
      } catch (cause) {
        throw new Error(`helm package ${chart.name}-${chart.version} failed`, { cause });
      }
      await reindex();
      return `${chart.name}-${chart.version}.tgz`;
    },
    async placeFile(path, content) {
      const file = normalize(join(dir, path));
      if (!file.startsWith(dir + sep)) throw new Error(`placeFile: ${path} is outside the repository`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    },
    async addRawEntries(entries) {
      raw.push(...entries);
      await reindex();
    },
    async unpublish(name, version) {
      for (const f of await readdir(dir)) {
        if (f === `${name}-${version}.tgz`) await rm(join(dir, f));
      }
      await reindex();
    },
    setStalled(value) {
      stalled = value;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          void rm(base, { recursive: true, force: true }).then(() => ok());
        });
      }),
  };
}
