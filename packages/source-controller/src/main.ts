#!/usr/bin/env node
// source-controller: flags → wiring (controller.ts) → run until SIGTERM has drained in-flight reconciles.
import { KubeClient, parseFlagsOrExit, runMain } from "@capstan/runtime";
import { createSourceController } from "./controller.js";
import { controllerName, sourceControllerFlags } from "./flags.js";

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseFlagsOrExit(controllerName, sourceControllerFlags, argv);
  const client = KubeClient.fromFlags(flags, controllerName);
  try {
    const controller = await createSourceController({ flags, client });
    await controller.run();
    return 0;
  } finally {
    client.close();
  }
}

runMain(controllerName, () => main(process.argv.slice(2)));
