// The Widget controller (main.ts) as a child process, run from source; the process handling is @capstan/cluster's.
import { fileURLToPath } from "node:url";
import { type ControllerProcess, fromSource, spawnController } from "@capstan/cluster/process";

export type { ControllerProcess };

const main = fileURLToPath(new URL("./main.ts", import.meta.url));

export function startControllerProcess(args: string[], env: NodeJS.ProcessEnv = {}): ControllerProcess {
  return spawnController({ name: "widget-controller", entry: fromSource(main), args, env });
}
