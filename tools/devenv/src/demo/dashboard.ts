// The demo's dashboard: --insecure-local on loopback (no login, this machine only), on port 9090 when it is free and
// on any free port otherwise. `./dev demo` prints its URL with dashboardLine (state.ts).
import { type Dashboard, startDashboard } from "@capstan/dashboard";
import type { KubeClient } from "@capstan/runtime";

export const preferredDashboardPort = 9090;

export function startDemoDashboard(client: KubeClient, staticDir?: string): Promise<Dashboard> {
  const options = { client, host: "127.0.0.1", insecureLocal: true, ...(staticDir ? { staticDir } : {}) };
  return startDashboard({ ...options, port: preferredDashboardPort }).catch(() =>
    startDashboard({ ...options, port: 0 }),
  );
}
