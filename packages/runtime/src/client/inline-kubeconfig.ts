// A kubeconfig that someone other than the operator wrote (a tenant's Secret for spec.kubeConfig) is parsed here,
// never by @kubernetes/client-node: that library runs `user.exec` commands and reads `tokenFile`, `client-certificate`,
// `client-key` and `certificate-authority` paths, which would hand the tenant code execution in the controller and
// the controller's own files (its ServiceAccount token). Like Flux's KubeConfigFromBytes, only inline credentials
// are accepted; unlike Flux, which silently drops an exec section, every refused field is named in an error.
import { parseDocument } from "yaml";

/** What a validated kubeconfig gives a client: the server, TLS material and one inline credential. */
export interface InlineKubeconfig {
  server: URL;
  /** PEM bytes of certificate-authority-data. */
  ca?: Buffer;
  /** PEM bytes of client-certificate-data and client-key-data (both or neither). */
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  username?: string;
  password?: string;
  /** insecure-skip-tls-verify, only ever true when the operator allowed it (--insecure-kubeconfig-tls). */
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
}

export interface InlineKubeconfigOptions {
  /** --insecure-kubeconfig-tls: a kubeconfig may turn TLS verification off. */
  allowInsecureTls?: boolean;
}

/** The kubeconfig names something Capstan will not act on. `field` says which; the message never quotes a value. */
export class KubeconfigRefusedError extends Error {
  override name = "KubeconfigRefusedError";
  constructor(
    readonly field: string,
    why: string,
  ) {
    super(`${field} ${why}`);
  }
}

/** A kubeconfig larger than a Secret can hold is not read. */
export const maxKubeconfigBytes = 1024 * 1024;

const fileReferences: Record<string, Record<string, string>> = {
  user: {
    tokenFile: "an inline token",
    "token-file": "an inline token",
    "client-certificate": "client-certificate-data",
    "client-key": "client-key-data",
  },
  cluster: { "certificate-authority": "certificate-authority-data" },
};

const unsupportedUserFields: Record<string, string> = {
  exec: "is not allowed: Capstan never runs a kubeconfig's exec command (--insecure-kubeconfig-exec is not supported yet); use an inline token or client certificate",
  "auth-provider": "is not allowed: auth providers are not supported; use an inline token or client certificate",
  as: "is not supported: impersonation in a remote kubeconfig is not supported",
  "as-uid": "is not supported: impersonation in a remote kubeconfig is not supported",
  "as-groups": "is not supported: impersonation in a remote kubeconfig is not supported",
  "as-user-extra": "is not supported: impersonation in a remote kubeconfig is not supported",
};

type Entry = { name: string; body: Record<string, unknown> };

/** Parses and validates a kubeconfig's text; throws KubeconfigRefusedError naming the first field it refuses. */
export function parseInlineKubeconfig(text: string, options: InlineKubeconfigOptions = {}): InlineKubeconfig {
  if (Buffer.byteLength(text) > maxKubeconfigBytes) {
    throw new KubeconfigRefusedError("kubeconfig", `is larger than ${maxKubeconfigBytes} bytes`);
  }
  const root = parseYaml(text);
  const clusters = entries(root, "clusters", "cluster");
  const users = entries(root, "users", "user");
  const contexts = entries(root, "contexts", "context");
  // Every entry is checked, used or not (as Flux): a refused field is refused wherever it is.
  for (const c of clusters) checkCluster(c, options);
  for (const u of users) checkUser(u);

  const currentName = root["current-context"];
  if (typeof currentName !== "string" || currentName === "") {
    throw new KubeconfigRefusedError("current-context", "is not set");
  }
  const context = contexts.find((c) => c.name === currentName);
  if (!context) throw new KubeconfigRefusedError(`current-context '${currentName}'`, "names no context");
  const clusterName = context.body.cluster;
  const cluster = clusters.find((c) => c.name === clusterName);
  if (typeof clusterName !== "string" || !cluster) {
    throw new KubeconfigRefusedError(`context '${currentName}' cluster`, "names no cluster of the kubeconfig");
  }
  const userName = context.body.user;
  const user = typeof userName === "string" && userName !== "" ? users.find((u) => u.name === userName) : undefined;
  if (typeof userName === "string" && userName !== "" && !user) {
    throw new KubeconfigRefusedError(`context '${currentName}' user`, "names no user of the kubeconfig");
  }
  return { ...clusterSettings(cluster, options), ...(user ? credentials(user) : {}) };
}

function parseYaml(text: string): Record<string, unknown> {
  // The parser's message quotes the text around an error, which is the kubeconfig's credentials: keep only its
  // code and position.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const offset = Math.min(error.pos[0], text.length);
    const before = text.slice(0, offset).split("\n");
    const at = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    throw new KubeconfigRefusedError("kubeconfig", `is not valid YAML: ${error.code}${at}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw new KubeconfigRefusedError("kubeconfig", "is not valid YAML: too many aliases");
  }
  if (!isRecord(value)) throw new KubeconfigRefusedError("kubeconfig", "is not a YAML mapping");
  return value;
}

function entries(root: Record<string, unknown>, list: string, kind: string): Entry[] {
  const value = root[list];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new KubeconfigRefusedError(list, "is not a list");
  return value.map((item, i) => {
    if (!isRecord(item) || typeof item.name !== "string") {
      throw new KubeconfigRefusedError(`${list}[${i}]`, "has no name");
    }
    const body = item[kind] ?? {};
    if (!isRecord(body)) throw new KubeconfigRefusedError(`${list}[${i}].${kind}`, "is not a mapping");
    return { name: item.name, body };
  });
}

function present(body: Record<string, unknown>, field: string): boolean {
  const v = body[field];
  return v !== undefined && v !== null && v !== "" && v !== false;
}

function checkCluster(c: Entry, options: InlineKubeconfigOptions): void {
  const where = `cluster '${c.name}'`;
  for (const [field, instead] of Object.entries(fileReferences.cluster!)) {
    if (present(c.body, field)) {
      throw new KubeconfigRefusedError(
        `${where} ${field}`,
        `is not allowed: a path on the controller's disk; only ${instead} is supported`,
      );
    }
  }
  if (present(c.body, "proxy-url")) {
    throw new KubeconfigRefusedError(`${where} proxy-url`, "is not supported yet");
  }
  if (present(c.body, "insecure-skip-tls-verify") && !options.allowInsecureTls) {
    throw new KubeconfigRefusedError(
      `${where} insecure-skip-tls-verify`,
      "is not allowed unless the controller runs with --insecure-kubeconfig-tls",
    );
  }
}

function checkUser(u: Entry): void {
  const where = `user '${u.name}'`;
  for (const [field, why] of Object.entries(unsupportedUserFields)) {
    if (present(u.body, field)) throw new KubeconfigRefusedError(`${where} ${field}`, why);
  }
  for (const [field, instead] of Object.entries(fileReferences.user!)) {
    if (present(u.body, field)) {
      throw new KubeconfigRefusedError(
        `${where} ${field}`,
        `is not allowed: a path on the controller's disk; only ${instead} is supported`,
      );
    }
  }
}

function clusterSettings(c: Entry, options: InlineKubeconfigOptions): Omit<InlineKubeconfig, "token"> {
  const where = `cluster '${c.name}'`;
  const text = c.body.server;
  let server: URL;
  try {
    if (typeof text !== "string") throw new Error("not a string");
    server = new URL(text);
  } catch {
    throw new KubeconfigRefusedError(`${where} server`, "is not a URL");
  }
  if (server.protocol !== "https:" && server.protocol !== "http:") {
    throw new KubeconfigRefusedError(`${where} server`, "is not an http(s) URL");
  }
  if (server.username || server.password) {
    throw new KubeconfigRefusedError(`${where} server`, "must not carry credentials in the URL");
  }
  const out: Omit<InlineKubeconfig, "token"> = {
    server,
    insecureSkipTlsVerify: options.allowInsecureTls === true && c.body["insecure-skip-tls-verify"] === true,
  };
  const ca = base64Field(c.body, "certificate-authority-data", where);
  if (ca) out.ca = ca;
  const sni = c.body["tls-server-name"];
  if (typeof sni === "string" && sni !== "") out.tlsServerName = sni;
  return out;
}

function credentials(u: Entry): Partial<InlineKubeconfig> {
  const where = `user '${u.name}'`;
  const out: Partial<InlineKubeconfig> = {};
  const cert = base64Field(u.body, "client-certificate-data", where);
  const key = base64Field(u.body, "client-key-data", where);
  if (Boolean(cert) !== Boolean(key)) {
    throw new KubeconfigRefusedError(
      `${where} ${cert ? "client-key-data" : "client-certificate-data"}`,
      "is missing: client-certificate-data and client-key-data go together",
    );
  }
  if (cert && key) Object.assign(out, { cert, key });
  const token = stringField(u.body, "token", where);
  if (token) out.token = token;
  const username = stringField(u.body, "username", where);
  const password = stringField(u.body, "password", where);
  if (username !== undefined || password !== undefined) {
    if (token) throw new KubeconfigRefusedError(`${where} username`, "cannot be combined with token");
    out.username = username ?? "";
    out.password = password ?? "";
  }
  return out;
}

function stringField(body: Record<string, unknown>, field: string, where: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new KubeconfigRefusedError(`${where} ${field}`, "is not a string");
  // A header value cannot hold line breaks; refusing them here keeps the token out of a client error message.
  if (/[\r\n]/.test(v) || v.includes("\u0000"))
    throw new KubeconfigRefusedError(`${where} ${field}`, "contains a line break");
  return v;
}

function base64Field(body: Record<string, unknown>, field: string, where: string): Buffer | undefined {
  const v = stringField(body, field, where);
  if (v === undefined) return undefined;
  const compact = v.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new KubeconfigRefusedError(`${where} ${field}`, "is not base64");
  }
  return Buffer.from(compact, "base64");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
