// Runs the Widget controller in the test process against a kubeconfig, with request counting.
import { Writable } from "node:stream";
import { KubeClient } from "../client/kube-client.js";
import type { RequestInfo } from "../client/transport.js";
import { commonFlags } from "../flags/common.js";
import { parseFlags } from "../flags/flags.js";
import { Manager } from "../manager/manager.js";
import { createLogger } from "../telemetry/logger.js";
import { Metrics } from "../telemetry/metrics.js";
import { ReconcileLedger, widgetDefinition } from "./widget-controller.js";
import { installWidgetCrd } from "./widget-crd.js";

export interface Harness {
  manager: Manager;
  ledger: ReconcileLedger;
  /** A separate client for the test's own reads and writes (not counted). */
  client: KubeClient;
  /** Requests the controller made, in order. */
  requests: RequestInfo[];
  /** Log lines the controller wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves when the manager has stopped. */
  running: Promise<void>;
  stop(): Promise<void>;
}

export async function startWidgetController(
  kubeconfigPath: string,
  argv: string[] = [],
  options: { watchNamespace?: string } = {},
): Promise<Harness> {
  const parsed = parseFlags("widget-controller", commonFlags, [
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    "--min-retry-delay=50ms",
    "--max-retry-delay=1s",
    ...(options.watchNamespace ? ["--watch-all-namespaces=false", `--namespace=${options.watchNamespace}`] : []),
    ...argv,
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  const requests: RequestInfo[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const controllerClient = new KubeClient({ kubeconfigPath, onRequest: (info) => requests.push(info) });
  const client = new KubeClient({ kubeconfigPath });
  await installWidgetCrd(client);
  const ledger = new ReconcileLedger();
  const manager = new Manager({
    name: "widget-controller",
    flags: parsed.values,
    client: controllerClient,
    logger: createLogger({ level: "debug", destination: sink }),
    metrics: new Metrics({ defaultMetrics: false }),
    handleSignals: false,
  });
  manager.register(widgetDefinition(ledger));
  const running = manager.start();
  // Surface startup failures to the test rather than as an unhandled rejection.
  running.catch(() => undefined);
  return {
    manager,
    ledger,
    client,
    requests,
    logs,
    running,
    stop: async () => {
      await manager.stop();
      controllerClient.close();
      client.close();
    },
  };
}
