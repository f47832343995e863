import { commonFlags, type FlagSpecs } from "@capstan/runtime";

export const dashboardFlags = {
  kubeconfig: commonFlags.kubeconfig,
  "kube-api-qps": commonFlags["kube-api-qps"],
  "kube-api-burst": commonFlags["kube-api-burst"],
  "log-level": commonFlags["log-level"],
  "log-encoding": commonFlags["log-encoding"],
  "listen-addr": {
    type: "string",
    default: "127.0.0.1:9090",
    description: "Address the dashboard serves HTTP on (host:port; the chart sets 0.0.0.0:9090).",
  },
  "insecure-local": {
    type: "boolean",
    default: false,
    description:
      "No login: everyone reaching the port acts with the dashboard's own credentials. Refused unless --listen-addr is loopback.",
  },
  "watch-namespace": {
    type: "string",
    default: "",
    description: "Watch one namespace only (default: all namespaces).",
  },
  "secure-cookie": {
    type: "boolean",
    default: false,
    description:
      "Mark the session cookie Secure (set when the dashboard is served over HTTPS, e.g. behind an Ingress).",
  },
  "oidc-issuer-url": {
    type: "string",
    default: "",
    description:
      "Accept OIDC ID tokens from this issuer (https), validated as kube-apiserver's --oidc-issuer-url does.",
  },
  "oidc-client-id": { type: "string", default: "", description: "The audience ID tokens must be issued for." },
  "oidc-username-claim": { type: "string", default: "sub", description: "ID token claim used as the user name." },
  "oidc-username-prefix": {
    type: "string",
    default: "",
    description: "Prefix of OIDC user names. Empty: the issuer URL and '#' unless the claim is email; '-' for none.",
  },
  "oidc-groups-claim": { type: "string", default: "", description: "ID token claim holding the user's groups." },
  "oidc-groups-prefix": { type: "string", default: "", description: "Prefix of OIDC group names." },
  "oidc-client-secret-file": {
    type: "string",
    default: "",
    description:
      "File holding the client secret for login by redirect (a confidential client); unset: a public client (PKCE only).",
  },
  "oidc-redirect-url": {
    type: "string",
    default: "",
    description:
      "Callback URL registered with the issuer for login by redirect (default: the URL the browser used + /api/oidc/callback).",
  },
  "oidc-scopes": {
    type: "string",
    default: "openid,profile,email",
    description:
      "Scopes asked for at login by redirect (comma-separated; add your issuer's groups scope if it has one).",
  },
  "oidc-ca-file": {
    type: "string",
    default: "",
    description: "CA (PEM) of the issuer's serving certificate, when it is not signed by a public CA.",
  },
} as const satisfies FlagSpecs;

/** host:port, [v6]:port or :port (all interfaces). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`--listen-addr: expected host:port, got ${JSON.stringify(addr)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen-addr: port ${port} out of range`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}
