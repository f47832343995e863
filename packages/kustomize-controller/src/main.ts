#!/usr/bin/env node
// kustomize-controller: flags → wiring.
import { KubeClient, Manager, parseFlagsOrExit, runMain } from "@capstan/runtime";
import { controllerName, registerKustomizeController } from "./controller.js";
import { behaviourFromFlags, kustomizeControllerFlags } from "./flags.js";
import { resolveExecutable } from "./render/executable.js";

/** The sops binary on PATH when found; else its name, and a Kustomization with spec.decryption says it is missing. */
function sopsBinary(name: string): string {
  try {
    return resolveExecutable(name);
  } catch {
    return name;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseFlagsOrExit(controllerName, kustomizeControllerFlags, argv);
  const client = KubeClient.fromFlags(flags, controllerName);
  const manager = new Manager({ name: controllerName, flags, client });
  if (flags.insecureKubeconfigExec) {
    manager.log.warn(
      "--insecure-kubeconfig-exec is not supported yet: kubeconfigs with user.exec are still refused (Capstan never runs them)",
    );
  }
  const kustomize = registerKustomizeController({
    manager,
    client,
    fromKubeconfig: (yaml, o) => KubeClient.fromKubeconfig(yaml, { ...o, userAgent: controllerName }),
    kustomizeBinary: resolveExecutable(flags.kustomizePath),
    sopsBinary: sopsBinary(flags.sopsPath),
    artifactCacheDir: flags.artifactCacheDir,
    ...behaviourFromFlags(flags),
  });
  try {
    await manager.start();
    return 0;
  } finally {
    kustomize.stop();
    client.close();
  }
}

runMain(controllerName, () => main(process.argv.slice(2)));
