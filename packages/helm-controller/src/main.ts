#!/usr/bin/env node
// helm-controller: flags → wiring.
import { existsSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { KubeClient, Manager, parseFlagsOrExit, runMain } from "@capstan/runtime";
import { controllerName, registerHelmController } from "./controller.js";
import { behaviourFromFlags, helmControllerFlags } from "./flags.js";
import { controllerAccess } from "./helm/access.js";

/** A binary: a path as given, else found on PATH; undefined when it is not there. */
function findBinary(name: string): string | undefined {
  if (isAbsolute(name) || name.includes("/")) return name;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function resolveHelm(name: string): string {
  const found = findBinary(name);
  if (!found) throw new Error(`helm binary '${name}' not found on PATH (set --helm-path)`);
  return found;
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseFlagsOrExit(controllerName, helmControllerFlags, argv);
  const client = KubeClient.fromFlags(flags, controllerName);
  const manager = new Manager({ name: controllerName, flags, client });
  registerHelmController({
    manager,
    client,
    access: controllerAccess(flags.kubeconfig || undefined),
    fromKubeconfig: (yaml, o) => KubeClient.fromKubeconfig(yaml, { ...o, userAgent: controllerName }),
    helmBinary: resolveHelm(flags.helmPath),
    // Optional: only spec.postRenderers need it, and those stall with a clear message without it.
    kustomizeBinary: findBinary(flags.kustomizePath),
    ...behaviourFromFlags(flags),
  });
  try {
    await manager.start();
    return 0;
  } finally {
    client.close();
  }
}

runMain(controllerName, () => main(process.argv.slice(2)));
