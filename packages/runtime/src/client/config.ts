// Where the client's configuration comes from, in controller-runtime's order (GetConfig): an explicit kubeconfig
// wins, then in-cluster service account credentials, then $KUBECONFIG and ~/.kube/config.
//
// The operator's own kubeconfig is read here, not by @kubernetes/client-node, whenever it needs nothing beyond
// files and inline data (the in-cluster ServiceAccount, client certificates, tokens, token files, basic auth): that
// library's import alone costs a controller about 25 MiB of V8 heap and 11 MiB outside it (its generated API models),
// a third of a controller's resident memory at start. A kubeconfig whose user runs an exec plugin or an auth
// provider, or whose cluster names a proxy-url, is still handed to client-node, imported then and only then, which
// acts on it as kubectl would.
import { existsSync, readFileSync } from "node:fs";
import type https from "node:https";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";

export interface KubeConfigSource {
  /** A kubeconfig file given explicitly (a --kubeconfig flag). */
  kubeconfigPath?: string;
  /** Context to use instead of the kubeconfig's current-context. */
  context?: string;
  /** Environment to consult (defaults to process.env, read when called, never at import). */
  env?: Record<string, string | undefined>;
}

/** What a client needs of a kubeconfig: client-node's KubeConfig has this shape, and so has Capstan's own reader. */
export interface LoadedKubeConfig {
  getCurrentCluster(): { server: string } | null;
  /** Sets TLS material and auth headers on `opts`, reading the files the kubeconfig names now (rotation). */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
const serviceAccountTokenPath = `${serviceAccountDir}/token`;
const serviceAccountCaPath = `${serviceAccountDir}/ca.crt`;

export function loadKubeConfig(source: KubeConfigSource = {}): LoadedKubeConfig {
  const env = source.env ?? process.env;
  let files: string[];
  if (source.kubeconfigPath) {
    files = [source.kubeconfigPath];
  } else if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(delimiter).filter(Boolean);
    files = listed.filter((f) => existsSync(f));
    if (files.length === 0) {
      throw new Error(`load kubeconfig: none of the files in KUBECONFIG exist (${listed.join(delimiter)})`);
    }
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(serviceAccountTokenPath)) {
    return inCluster(env);
  } else if (env.HOME && existsSync(join(env.HOME, ".kube", "config"))) {
    files = [join(env.HOME, ".kube", "config")];
  } else {
    throw new Error("load kubeconfig: none found (set --kubeconfig or KUBECONFIG, or run in a cluster)");
  }
  const merged = mergeFiles(files);
  const contextName = source.context || merged.currentContext;
  const context = contextName ? merged.contexts.get(contextName) : undefined;
  if (source.context && !context) throw new Error(`load kubeconfig: no context named '${source.context}'`);
  const cluster = typeof context?.cluster === "string" ? merged.clusters.get(context.cluster) : undefined;
  if (!cluster || typeof cluster.body.server !== "string") {
    throw new Error("load kubeconfig: no current cluster (set --kubeconfig, KUBECONFIG, or run in a cluster)");
  }
  const user = typeof context?.user === "string" ? merged.users.get(context.user) : undefined;
  const needsClientNode =
    present(user?.body, "exec") || present(user?.body, "auth-provider") || present(cluster.body, "proxy-url");
  if (needsClientNode) return viaClientNode(files, source.context);
  return fromFile(cluster, user);
}

interface Located {
  /** The entry's mapping (cluster:, user:). */
  body: Record<string, unknown>;
  /** The directory of the file it came from: relative paths in it are relative to there, as kubectl reads them. */
  dir: string;
}

interface Merged {
  currentContext: string | undefined;
  clusters: Map<string, Located>;
  users: Map<string, Located>;
  contexts: Map<string, Record<string, unknown>>;
}

// $KUBECONFIG may list several files; like kubectl, the first one that sets a value (a current-context, an entry of
// a name) wins.
function mergeFiles(files: string[]): Merged {
  const merged: Merged = { currentContext: undefined, clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    const root = readKubeconfig(file);
    if (!root) continue;
    const dir = dirname(resolve(file));
    const current = root["current-context"];
    if (merged.currentContext === undefined && typeof current === "string" && current !== "") {
      merged.currentContext = current;
    }
    addEntries(
      root.clusters,
      "cluster",
      (name, body) => merged.clusters.has(name) || merged.clusters.set(name, { body, dir }),
    );
    addEntries(root.users, "user", (name, body) => merged.users.has(name) || merged.users.set(name, { body, dir }));
    addEntries(root.contexts, "context", (name, body) => merged.contexts.has(name) || merged.contexts.set(name, body));
  }
  return merged;
}

function readKubeconfig(file: string): Record<string, unknown> | undefined {
  let root: unknown;
  try {
    root = parse(readFileSync(file, "utf8"));
  } catch (cause) {
    // Never the parser's message: it quotes the text around the error, which may be a credential.
    const code = (cause as { code?: unknown }).code;
    throw new Error(`load kubeconfig ${file}: cannot read it${typeof code === "string" ? ` (${code})` : ""}`);
  }
  if (root === null || root === undefined) return undefined;
  if (!isRecord(root)) throw new Error(`load kubeconfig ${file}: not a YAML mapping`);
  return root;
}

function addEntries(list: unknown, kind: string, add: (name: string, body: Record<string, unknown>) => unknown): void {
  for (const item of arrayOf(list)) {
    const body = item[kind];
    if (typeof item.name === "string" && isRecord(body)) add(item.name, body);
  }
}

function fromFile(cluster: Located, user: Located | undefined): LoadedKubeConfig {
  const server = cluster.body.server as string;
  const c = cluster.body;
  const u = user?.body ?? {};
  return {
    getCurrentCluster: () => ({ server }),
    applyToHTTPSOptions: async (opts) => {
      const ca = material(c, "certificate-authority", cluster.dir);
      if (ca) opts.ca = ca;
      if (c["insecure-skip-tls-verify"] === true) opts.rejectUnauthorized = false;
      if (typeof c["tls-server-name"] === "string" && c["tls-server-name"] !== "") {
        opts.servername = c["tls-server-name"];
      }
      applyUser(opts, u, user?.dir ?? cluster.dir);
    },
  };
}

function applyUser(opts: https.RequestOptions, u: Record<string, unknown>, dir: string): void {
  const cert = material(u, "client-certificate", dir);
  const key = material(u, "client-key", dir);
  if (cert) opts.cert = cert;
  if (key) opts.key = key;
  const headers = { ...(opts.headers as Record<string, string> | undefined) };
  const tokenFile = typeof u.tokenFile === "string" && u.tokenFile !== "" ? u.tokenFile : undefined;
  const token = typeof u.token === "string" && u.token !== "" ? u.token : undefined;
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (tokenFile) headers.Authorization = `Bearer ${readText(pathIn(dir, tokenFile), "tokenFile").trim()}`;
  else if (typeof u.username === "string" && u.username !== "") {
    opts.auth = `${u.username}:${typeof u.password === "string" ? u.password : ""}`;
  }
  opts.headers = headers;
}

// client-node's loadFromCluster: the service's address from the environment, the mounted CA, the mounted token
// (re-read on every resolve: the kubelet rotates it).
function inCluster(env: Record<string, string | undefined>): LoadedKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    getCurrentCluster: () => ({ server }),
    applyToHTTPSOptions: async (opts) => {
      if (existsSync(serviceAccountCaPath)) opts.ca = readFileSync(serviceAccountCaPath);
      const token = readText(serviceAccountTokenPath, "service account token").trim();
      opts.headers = { ...(opts.headers as Record<string, string> | undefined), Authorization: `Bearer ${token}` };
    },
  };
}

// exec plugins, auth providers and proxies: client-node, loaded on first use (it is what ran every kubeconfig before).
function viaClientNode(files: string[], context: string | undefined): LoadedKubeConfig {
  let loaded: Promise<KubeConfig> | undefined;
  const load = async () => {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const [first, ...rest] = files;
    const kc = new KubeConfig();
    kc.loadFromFile(first as string);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more, true);
    }
    if (context) kc.setCurrentContext(context);
    return kc;
  };
  let server: string | undefined;
  return {
    getCurrentCluster: () => (server === undefined ? { server: "(kubeconfig via client-node)" } : { server }),
    applyToHTTPSOptions: async (opts) => {
      loaded ??= load();
      const kc = await loaded;
      server = kc.getCurrentCluster()?.server;
      await kc.applyToHTTPSOptions(opts);
    },
  };
}

/** `<field>-data` (base64) or `<field>` (a file, relative to the kubeconfig's directory). */
function material(body: Record<string, unknown>, field: string, dir: string): Buffer | undefined {
  const data = body[`${field}-data`];
  if (typeof data === "string" && data !== "") return Buffer.from(data, "base64");
  const file = body[field];
  if (typeof file === "string" && file !== "") return readBytes(pathIn(dir, file), field);
  return undefined;
}

function pathIn(dir: string, file: string): string {
  return isAbsolute(file) ? file : join(dir, file);
}

function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw Object.assign(
      new Error(`load kubeconfig: read ${what} ${path}${typeof code === "string" ? `: ${code}` : ""}`),
      {
        code,
      },
    );
  }
}

const readText = (path: string, what: string) => readBytes(path, what).toString("utf8");

function present(body: Record<string, unknown> | undefined, field: string): boolean {
  const v = body?.[field];
  return v !== undefined && v !== null && v !== "" && v !== false;
}

function arrayOf(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
