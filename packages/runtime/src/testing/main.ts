// The Widget controller as a process, for tests of lifecycle, leader election and /metrics with real child
// processes. Run from source with:
//   node --experimental-transform-types --conditions=capstan-source --import @capstan/cluster/ts-hooks.mjs main.ts [flags]
import { KubeClient } from "../client/kube-client.js";
import { commonFlags } from "../flags/common.js";
import { parseFlagsOrExit } from "../flags/main.js";
import { Manager } from "../manager/manager.js";
import { ReconcileLedger, widgetDefinition } from "./widget-controller.js";

const flags = parseFlagsOrExit("widget-controller", commonFlags, process.argv.slice(2));
const client = KubeClient.fromFlags(flags, "widget-controller");
const manager = new Manager({ name: "widget-controller", flags, client });
manager.register(widgetDefinition(new ReconcileLedger()));
try {
  await manager.start();
  client.close();
  process.exit(0);
} catch (err) {
  manager.log.error({ err: (err as Error).message }, "manager stopped with an error");
  client.close();
  process.exit(1);
}
