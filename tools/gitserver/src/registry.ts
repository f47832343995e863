// A real OCI registry for tests: the CNCF distribution registry (built by tools/cluster/build-binaries.sh) on a free
// loopback port, with TLS from a test PKI and htpasswd (bcrypt) basic auth, or plain HTTP without auth, or the token
// auth flow (`auth: "token"`: a token service of token-server.ts, whose signing certificate the registry trusts).
// `orasPush` pushes artifacts with the real oras CLI, as users and CI push them.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "@capstan/cluster/process";
import { execa } from "execa";
import { createTestPki, type TestPki } from "./tls.js";
import { startTokenServer, type TokenServer } from "./token-server.js";

/**
 * The one account the registry's htpasswd file holds. The registry accepts only bcrypt hashes and no bcrypt library is
 * in the lockfile, so the hash of this fixed test password is precomputed (Go's golang.org/x/crypto/bcrypt, cost 10).
 */
export const registryCredentials = { username: "capstan", password: "capstan-registry-password" } as const;
const htpasswd = "capstan:$2a$10$7eh6uOsx4qP018yntZ3nUO1lo6XKVIBtsIDaTK3L70WvvxtqGMekO\n";

export interface RegistryOptions {
  /** PATH fragment holding the pinned `registry` binary (inject("capstanBinPath") in tests). */
  binPath: string;
  /** Serve HTTPS with this PKI's server certificate (a fresh PKI when true); plain HTTP when false/unset. */
  tls?: TestPki | boolean;
  /**
   * Require registryCredentials: true or "htpasswd" for basic auth (the registry refuses htpasswd without TLS),
   * "token" for the Bearer token flow through a token service started beside it (HTTPS with the same PKI).
   */
  auth?: boolean | "htpasswd" | "token";
  /** With auth "token": the realm the registry names in its challenges, instead of its token service's URL. */
  tokenRealm?: string | ((tokenServiceRealm: string) => string);
  /** Keep the registry's access log (one line per request, combined log format) in TestRegistry.accessLog. */
  accessLog?: boolean;
}

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234: what goes after oci:// and before the repository. */
  host: string;
  /** The PKI whose CA signed the server certificate (TLS only). */
  pki?: TestPki;
  plainHttp: boolean;
  /** The token service, with auth "token" (its requests are recorded). */
  token?: TokenServer;
  /** Requests served so far, e.g. `"HEAD /v2/apps/web/manifests/1.0.0 HTTP/1.1" 200` (with accessLog; bounded). */
  readonly accessLog: string[];
  /** The registry's filesystem storage root (tests corrupt blobs under docker/registry/v2/blobs/sha256/). */
  dataDir: string;
  /** A kubernetes.io/dockerconfigjson .dockerconfigjson value for registryCredentials on this host. */
  dockerConfigJson(credentials?: { username: string; password: string }): string;
  close(): Promise<void>;
}

export function findBinary(binPath: string, name: string): string {
  const found = binPath
    .split(delimiter)
    .filter(Boolean)
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
  if (!found)
    throw new Error(`${name} not found in ${binPath || "(empty PATH fragment)"}: run tools/cluster/build-binaries.sh`);
  return found;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited with code ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => {
        socket.destroy();
        ok(true);
      });
      socket.on("error", () => ok(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`registry did not listen on port ${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRegistry(options: RegistryOptions): Promise<TestRegistry> {
  const binary = findBinary(options.binPath, "registry");
  const mode = options.auth === true ? "htpasswd" : options.auth || undefined;
  if (mode === "htpasswd" && !options.tls) throw new Error("startRegistry: htpasswd auth needs tls");
  const pki = options.tls === true ? await createTestPki() : options.tls || undefined;
  const dir = await mkdtemp(join(tmpdir(), "capstan-registry-"));
  await mkdir(join(dir, "data"));
  const port = await freePort();
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    `    disabled: ${options.accessLog ? "false" : "true"}`,
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
  ];
  if (pki) {
    await writeFile(join(dir, "server.crt"), pki.serverCert);
    await writeFile(join(dir, "server.key"), pki.serverKey);
    config.push("  tls:", `    certificate: ${join(dir, "server.crt")}`, `    key: ${join(dir, "server.key")}`);
  }
  if (mode === "htpasswd") {
    await writeFile(join(dir, "htpasswd"), htpasswd);
    config.push("auth:", "  htpasswd:", "    realm: capstan-test", `    path: ${join(dir, "htpasswd")}`);
  }
  let token: TokenServer | undefined;
  if (mode === "token") {
    token = await startTokenServer({ ...(pki ? { pki } : {}), accounts: [registryCredentials] });
    await writeFile(join(dir, "token-signer.crt"), token.signerCert);
    config.push(
      "auth:",
      "  token:",
      `    realm: ${typeof options.tokenRealm === "function" ? options.tokenRealm(token.realm) : (options.tokenRealm ?? token.realm)}`,
      `    service: ${token.service}`,
      `    issuer: ${token.issuer}`,
      `    rootcertbundle: ${join(dir, "token-signer.crt")}`,
    );
  }
  await writeFile(join(dir, "config.yml"), `${config.join("\n")}\n`);
  // The registry reads OTEL_* variables; a clean environment keeps a developer's tracing setup out of the tests.
  const child = spawn(binary, ["serve", join(dir, "config.yml")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, OTEL_TRACES_EXPORTER: "none" },
    stdio: ["ignore", options.accessLog ? "pipe" : "ignore", "pipe"],
  });
  const accessLog: string[] = [];
  let partial = "";
  child.stdout?.on("data", (c: Buffer) => {
    const lines = (partial + c.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const request = /"([A-Z]+ \S+ HTTP\/[\d.]+)" (\d{3})/.exec(line);
      if (request && accessLog.length < 100_000) accessLog.push(`"${request[1]}" ${request[2]}`);
    }
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4096);
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await token?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => stderr);
  } catch (cause) {
    await close();
    throw cause;
  }
  const host = `127.0.0.1:${port}`;
  return {
    host,
    ...(pki ? { pki } : {}),
    plainHttp: !pki,
    ...(token ? { token } : {}),
    accessLog,
    dataDir: join(dir, "data"),
    dockerConfigJson(credentials = registryCredentials) {
      const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
      return JSON.stringify({
        auths: { [host]: { username: credentials.username, password: credentials.password, auth } },
      });
    },
    close,
  };
}

export interface OrasFile {
  /** File name inside the artifact (oras records it as org.opencontainers.image.title). */
  name: string;
  content: Buffer | string;
  mediaType: string;
}

export interface OrasPushOptions {
  binPath: string;
  registry: TestRegistry;
  /** repository:tag, e.g. apps/podinfo:6.0.0 */
  reference: string;
  files: OrasFile[];
  /** --artifact-type of the manifest. */
  artifactType?: string;
  /** Manifest annotations (org.opencontainers.image.source, .revision, ...). */
  annotations?: Record<string, string>;
  credentials?: { username: string; password: string };
}

/** Pushes files as one artifact with the real oras CLI; resolves to the manifest digest (sha256:<hex>). */
export async function orasPush(options: OrasPushOptions): Promise<string> {
  const oras = findBinary(options.binPath, "oras");
  const dir = await mkdtemp(join(tmpdir(), "capstan-oras-"));
  try {
    const args = ["push", "--no-tty", "--disable-path-validation", "--format", "go-template={{.digest}}"];
    const { registry } = options;
    if (registry.plainHttp) args.push("--plain-http");
    if (registry.pki) {
      await writeFile(join(dir, "ca.crt"), registry.pki.caCert);
      args.push("--ca-file", join(dir, "ca.crt"));
    }
    const credentials = options.credentials ?? (registry.pki || registry.token ? registryCredentials : undefined);
    if (credentials) args.push("--username", credentials.username, "--password-stdin");
    if (options.artifactType) args.push("--artifact-type", options.artifactType);
    for (const [k, v] of Object.entries(options.annotations ?? {})) args.push("--annotation", `${k}=${v}`);
    args.push(`${registry.host}/${options.reference}`);
    for (const f of options.files) {
      await writeFile(join(dir, f.name), f.content);
      args.push(`${f.name}:${f.mediaType}`);
    }
    // A private DOCKER_CONFIG so no developer credential store is read or written.
    const { stdout } = await execa(oras, args, {
      cwd: dir,
      input: credentials?.password ?? "",
      env: { DOCKER_CONFIG: dir, HOME: dir },
      extendEnv: true,
    });
    const digest = stdout.trim().split("\n").at(-1) ?? "";
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`oras push: no digest in output: ${stdout}`);
    return digest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface HelmPushOptions {
  /** The pinned helm binary (ensureBinaries().bin.helm). */
  helm: string;
  registry: TestRegistry;
  /** A chart package made by `helm package`. */
  chartFile: string;
  /** Repository path the chart goes under: `charts` pushes oci://<host>/charts/<chart name>:<version>. */
  repository: string;
  credentials?: { username: string; password: string };
}

/** Pushes a packaged chart with the real `helm push`, as chart publishers do; resolves to the manifest digest. */
export async function helmPush(options: HelmPushOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-helm-push-"));
  try {
    const { registry } = options;
    const args = ["push", options.chartFile, `oci://${registry.host}/${options.repository}`];
    if (registry.plainHttp) args.push("--plain-http");
    if (registry.pki) {
      await writeFile(join(dir, "ca.crt"), registry.pki.caCert);
      args.push("--ca-file", join(dir, "ca.crt"));
    }
    const credentials = options.credentials ?? (registry.pki || registry.token ? registryCredentials : undefined);
    if (credentials) args.push("--username", credentials.username, "--password", credentials.password);
    // A private HOME and registry config: no developer credential store is read or written.
    const { stdout, stderr } = await execa(options.helm, args, {
      env: {
        HOME: dir,
        HELM_REGISTRY_CONFIG: join(dir, "registry.json"),
        HELM_CACHE_HOME: join(dir, "cache"),
        HELM_CONFIG_HOME: join(dir, "config"),
        HELM_DATA_HOME: join(dir, "data"),
        DOCKER_CONFIG: dir,
      },
      extendEnv: true,
    });
    const digest = /Digest:\s*(sha256:[a-f0-9]{64})/.exec(`${stdout}\n${stderr}`)?.[1];
    if (!digest) throw new Error(`helm push: no digest in output: ${stdout}${stderr}`);
    return digest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
