// What the tests that run the Widget controller as child processes share: the Widget CRD, one namespace for the
// describe block, a client for the test's own reads and writes, and processes that watch only that namespace.
import { createTestNamespace, loadKubeConfig, type TestNamespace, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { afterAll, beforeAll, inject, onTestFinished } from "vitest";
import { KubeClient } from "../client/kube-client.js";
import type { KubeObject, ObjectRef } from "../contracts.js";
import { type ControllerProcess, startControllerProcess } from "./process.js";
import { installWidgetCrd, type Widget } from "./widget-crd.js";

export const widgetApiVersion = "testing.capstan.dev/v1";

export interface ProcessSuite {
  /** The test's own client (not the controller's). */
  readonly client: KubeClient;
  readonly ns: TestNamespace;
  /** A controller process on the suite's namespace (health and metrics on free ports), killed when the test ends. */
  start(extra?: string[]): ControllerProcess;
  ref(name: string): ObjectRef;
  create(name: string, spec: Widget["spec"]): Promise<KubeObject>;
}

/**
 * Registers the beforeAll/afterAll of the describe block it is called in. Read the members inside hooks and tests,
 * not at collection time.
 */
export function processSuite(prefix: string): ProcessSuite {
  let kubeconfig = "";
  let client: KubeClient | undefined;
  let ns: TestNamespace | undefined;
  beforeAll(async () => {
    kubeconfig = testKubeconfigPath(inject("capstanKubeconfig"));
    client = new KubeClient({ kubeconfigPath: kubeconfig });
    await installWidgetCrd(client);
    ns = await createTestNamespace(loadKubeConfig(kubeconfig), prefix);
  });
  afterAll(async () => {
    await ns?.delete();
    client?.close();
  });
  const started = () => {
    if (!client || !ns) throw new Error(`processSuite ${prefix}: used before its beforeAll ran (or it failed)`);
    return { client, ns };
  };
  const suite: ProcessSuite = {
    get client() {
      return started().client;
    },
    get ns() {
      return started().ns;
    },
    start(extra = []) {
      const p = startControllerProcess([
        `--kubeconfig=${kubeconfig}`,
        "--health-addr=127.0.0.1:0",
        "--metrics-addr=127.0.0.1:0",
        "--watch-all-namespaces=false",
        `--namespace=${started().ns.name}`,
        ...extra,
      ]);
      onTestFinished(() => p.kill());
      return p;
    },
    ref: (name) => ({ apiVersion: widgetApiVersion, kind: "Widget", name, namespace: started().ns.name }),
    create: (name, spec) =>
      started().client.create({
        apiVersion: widgetApiVersion,
        kind: "Widget",
        metadata: { name, namespace: started().ns.name },
        spec,
      } as KubeObject),
  };
  return suite;
}
