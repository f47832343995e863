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
} as const satisfies FlagSpecs;

/** host:port, [v6]:port or :port (all interfaces). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`--listen-addr: expected host:port, got ${JSON.stringify(addr)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen-addr: port ${port} out of range`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}
