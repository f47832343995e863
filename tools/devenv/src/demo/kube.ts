// Read-only GETs against the local control plane with node:https and the admin kubeconfig `./dev cluster up` writes.
// The demo's table needs a handful of GETs; loading the full Kubernetes client takes seconds on a busy machine, which
// would make `./dev demo status` slow.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parse } from "yaml";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ObjectReader {
  /** The object, or undefined when the apiserver answers 404 (no such object, or its kind is not served). */
  get<T>(ref: ObjectRef): Promise<T | undefined>;
}

interface KubeconfigFile {
  clusters?: { cluster?: { server?: string; "certificate-authority-data"?: string } }[];
  users?: { user?: { "client-certificate-data"?: string; "client-key-data"?: string } }[];
}

const timeoutMs = 10_000;

export function kubeconfigReader(path: string): ObjectReader {
  const kc = parse(readFileSync(path, "utf8")) as KubeconfigFile;
  const cluster = kc.clusters?.[0]?.cluster;
  const user = kc.users?.[0]?.user;
  const ca = cluster?.["certificate-authority-data"];
  const cert = user?.["client-certificate-data"];
  const key = user?.["client-key-data"];
  if (!cluster?.server || !ca || !cert || !key) {
    throw new Error(`${path}: not the admin kubeconfig of ./dev cluster (server, CA and client certificate data)`);
  }
  const server = new URL(cluster.server);
  const tls = { ca: decode(ca), cert: decode(cert), key: decode(key) };
  return {
    get: <T>(ref: ObjectRef) =>
      new Promise<T | undefined>((resolve, reject) => {
        const path = resourcePath(ref);
        const req = request(
          { host: server.hostname, port: server.port, path, method: "GET", timeout: timeoutMs, ...tls },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
              const body = Buffer.concat(chunks).toString("utf8");
              if (res.statusCode === 404) resolve(undefined);
              else if (res.statusCode === 200) resolve(JSON.parse(body) as T);
              else reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs / 1000}s`)));
        req.on("error", reject);
        req.end();
      }),
  };
}

function decode(data: string): Buffer {
  return Buffer.from(data, "base64");
}

/** The REST path of one object. Only the demo's kinds are read (Kustomization, Deployment): regular plurals. */
function resourcePath(ref: ObjectRef): string {
  const base = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : "";
  return `${base}${ns}/${ref.kind.toLowerCase()}s/${encodeURIComponent(ref.name)}`;
}
