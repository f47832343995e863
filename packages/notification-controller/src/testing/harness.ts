// The opening the integration tests of this package share: the control plane's kubeconfig and CRDs and a client for
// the test's own writes; a namespace, a webhook recorder and controller processes cleaned up when the test ends; or
// the controller wired in-process (controller.ts) for tests that look inside it.
import { ensureCrds } from "@capstan/api/testing";
import { freePort } from "@capstan/cluster/process";
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
import { KubeClient } from "@capstan/runtime";
import { afterAll, beforeAll, inject, onTestFinished } from "vitest";
import { type NotificationController, startNotificationController } from "../controller.js";
import { parseNotificationFlags } from "../flags.js";
import { type ControllerProcess, startControllerProcess } from "./process.js";
import { type RecorderServer, type Responder, startRecorder } from "./recorder.js";

export interface ControlPlane {
  /** Set in beforeAll. */
  readonly kubeconfig: string;
  readonly client: KubeClient;
}

/** Registers beforeAll/afterAll: the kubeconfig of the run's control plane, the CRDs applied, a client closed after. */
export function useControlPlane(): ControlPlane {
  const cp = {} as { kubeconfig: string; client: KubeClient };
  beforeAll(async () => {
    cp.kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
    await ensureCrds(cp.kubeconfig);
    cp.client = new KubeClient({ kubeconfigPath: cp.kubeconfig });
  });
  afterAll(() => cp.client?.close());
  return cp;
}

/** A namespace deleted when the test ends. */
export async function testNamespace(cp: ControlPlane, prefix: string): Promise<string> {
  const ns = await createTestNamespace(loadKubeConfig(cp.kubeconfig), prefix);
  onTestFinished(() => ns.delete());
  return ns.name;
}

export interface ProcessSetup {
  ns: string;
  /** Stands in for the Providers' endpoints. */
  hook: RecorderServer;
  /** Starts a controller process watching `ns` (the Lease lives there too) and waits until it is ready. */
  start(extra?: string[]): Promise<ControllerProcess>;
}

/**
 * For the test that calls it: a namespace, a webhook recorder, and `start` for controller processes with `args`,
 * all killed, closed and deleted when the test ends. CAPSTAN_NOTIFICATION_FROM_DIST=1 runs dist/main.js.
 */
export async function processSetup(
  cp: ControlPlane,
  prefix: string,
  options: { args?: string[]; respond?: Responder } = {},
): Promise<ProcessSetup> {
  const ns: TestNamespace = await createTestNamespace(loadKubeConfig(cp.kubeconfig), prefix);
  const hook = await startRecorder(options.respond);
  const procs: ControllerProcess[] = [];
  onTestFinished(async () => {
    for (const p of procs) await p.kill();
    await hook.close();
    await ns.delete();
  });
  const start = async (extra: string[] = []) => {
    const proc = await startControllerProcess({
      kubeconfig: cp.kubeconfig,
      namespace: ns.name,
      args: [...(options.args ?? []), ...extra],
      fromDist: process.env.CAPSTAN_NOTIFICATION_FROM_DIST === "1",
    });
    procs.push(proc);
    await proc.ready();
    return proc;
  };
  return { ns: ns.name, hook, start };
}

export interface InProcessController {
  controller: NotificationController;
  /** The webhook server's base URL. */
  receiverUrl: string;
  /** Stops the controller and waits for it. */
  stop(): Promise<void>;
}

/**
 * The controller wired in this process (without leader election, signals or a long drain), watching `namespace`,
 * with `args` after the defaults and `client` for its API requests (default: a client of its own).
 */
export async function startInProcess(
  cp: ControlPlane,
  options: { namespace: string; args?: string[]; client?: KubeClient },
): Promise<InProcessController> {
  const port = await freePort();
  const parsed = parseNotificationFlags("notification-controller", [
    `--kubeconfig=${cp.kubeconfig}`,
    "--health-addr=127.0.0.1:0",
    "--metrics-addr=127.0.0.1:0",
    `--receiver-addr=127.0.0.1:${port}`,
    "--watch-all-namespaces=false",
    "--leader-elect=false",
    "--log-level=error",
    ...(options.args ?? []),
  ]);
  if (parsed.help) throw new Error("unexpected --help");
  const controller = startNotificationController({
    flags: parsed.values,
    env: { RUNTIME_NAMESPACE: options.namespace },
    client: options.client ?? new KubeClient({ kubeconfigPath: cp.kubeconfig }),
    handleSignals: false,
    drainTimeoutMs: 1_000,
  });
  return {
    controller,
    receiverUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      await controller.stop();
      await controller.done.catch(() => undefined);
    },
  };
}
