// Credentials and TLS settings for a registry, from the Secrets an OCIRepository names: a kubernetes.io/dockerconfigjson
// Secret (spec.secretRef, then the ServiceAccount's imagePullSecrets), and certSecretRef (ca.crt, tls.crt, tls.key).
import { OciError } from "./errors.js";

export type SecretData = Readonly<Record<string, Buffer>>;

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

// Hosts Docker Hub's credentials are stored under by `docker login`.
const dockerHubKeys = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];

/** The host part of a docker config "auths" key (which may be a URL with a path). */
function keyHost(key: string): string {
  const stripped = key.replace(/^[a-z]+:\/\//i, "");
  return (stripped.split("/")[0] ?? "").toLowerCase();
}

/** Credentials for `host` in a .dockerconfigjson value; undefined when it holds none for that host. */
export function credentialsFromDockerConfig(
  json: string,
  host: string,
  secretName: string,
): RegistryCredentials | undefined {
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch (cause) {
    throw new OciError("credentials", `Secret '${secretName}': .dockerconfigjson is not valid JSON`, { cause });
  }
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (typeof auths !== "object" || auths === null) {
    throw new OciError("credentials", `Secret '${secretName}': .dockerconfigjson has no 'auths'`);
  }
  const wanted = dockerHubKeys.includes(host) ? dockerHubKeys : [host];
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    if (!wanted.includes(key) && !wanted.includes(keyHost(key))) continue;
    const entry = (value ?? {}) as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof entry.username === "string" && typeof entry.password === "string" && entry.username) {
      return { username: entry.username, password: entry.password };
    }
    if (typeof entry.auth === "string" && entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0)
        throw new OciError("credentials", `Secret '${secretName}': the 'auth' entry for '${key}' is malformed`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    throw new OciError("credentials", `Secret '${secretName}': the entry for '${key}' has no username and password`);
  }
  return undefined;
}

/** The .dockerconfigjson (or legacy .dockercfg) of a pull Secret, as text. */
export function dockerConfigOf(data: SecretData, secretName: string): string {
  const json = data[".dockerconfigjson"];
  if (json?.length) return json.toString("utf8");
  const legacy = data[".dockercfg"];
  if (legacy?.length) return JSON.stringify({ auths: JSON.parse(legacy.toString("utf8")) as unknown });
  throw new OciError(
    "credentials",
    `Secret '${secretName}' has no '.dockerconfigjson': it must be of type kubernetes.io/dockerconfigjson`,
  );
}

/** certSecretRef: ca.crt and/or tls.crt with tls.key (Flux's deprecated caFile/certFile/keyFile are read too). */
export function tlsFromSecret(data: SecretData, secretName: string): RegistryTls {
  const pick = (...keys: string[]) => keys.map((k) => data[k]).find((v) => v && v.length > 0);
  const ca = pick("ca.crt", "caFile");
  const cert = pick("tls.crt", "certFile");
  const key = pick("tls.key", "keyFile");
  if (Boolean(cert) !== Boolean(key)) {
    throw new OciError("credentials", `Secret '${secretName}': 'tls.crt' and 'tls.key' must be set together`);
  }
  if (!ca && !cert)
    throw new OciError("credentials", `Secret '${secretName}' has neither 'ca.crt' nor 'tls.crt'/'tls.key'`);
  return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}
