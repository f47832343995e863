// The notification-controller as a real child process, with the chart's arguments and environment and loopback
// ports; the process handling (JSON log, raw output for "no secret in the log" checks, lifecycle) is @capstan/cluster's.
import { fileURLToPath } from "node:url";
import { type ControllerProcess as BaseProcess, freePort, fromSource, spawnController } from "@capstan/cluster/process";

export interface ControllerProcess extends BaseProcess {
  readonly healthUrl: string;
  readonly receiverUrl: string;
}

export interface StartOptions {
  kubeconfig: string;
  /** Runtime namespace: the Lease lives here, and the controller watches only it (tests share one cluster). */
  namespace: string;
  args?: string[];
  /** Run dist/main.js (after `pnpm --filter @capstan/notification-controller... build`) instead of the sources. */
  fromDist?: boolean;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export async function startControllerProcess(options: StartOptions): Promise<ControllerProcess> {
  const [health, metrics, receiver] = [await freePort(), await freePort(), await freePort()];
  // The Helm chart's arguments, with the e2e harness's rewrites (kubeconfig, loopback ports), then the test's own.
  const args = [
    `--health-addr=127.0.0.1:${health}`,
    `--metrics-addr=127.0.0.1:${metrics}`,
    "--log-level=info",
    "--log-encoding=json",
    "--watch-all-namespaces=false",
    "--concurrent=4",
    "--leader-elect=true",
    `--receiver-addr=127.0.0.1:${receiver}`,
    `--kubeconfig=${options.kubeconfig}`,
    "--min-retry-delay=100ms",
    ...(options.args ?? []),
  ];
  const healthUrl = `http://127.0.0.1:${health}`;
  const proc = spawnController({
    name: "notification-controller",
    entry: options.fromDist ? [here("../../dist/main.js")] : fromSource(here("../main.ts")),
    args,
    env: { RUNTIME_NAMESPACE: options.namespace, POD_NAME: `notification-controller-${process.pid}` },
    healthUrl,
  });
  return { ...proc, healthUrl, receiverUrl: `http://127.0.0.1:${receiver}` };
}
