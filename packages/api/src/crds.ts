// The CRDs as parsed objects, read from the package's crds/ directory (shipped next to src/ and dist/).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { V1CustomResourceDefinition } from "@kubernetes/client-node";
import { parse } from "yaml";

/** Directory holding the CRD YAML files, the single source of truth for the API. */
export function crdDirectory(): string {
  return fileURLToPath(new URL("../crds/", import.meta.url));
}

/** Every CRD @capstan/api serves, parsed (YAML anchors resolved), in file-name order. */
export function loadCrds(): V1CustomResourceDefinition[] {
  const dir = crdDirectory();
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => {
      try {
        return parse(readFileSync(`${dir}${f}`, "utf8")) as V1CustomResourceDefinition;
      } catch (cause) {
        throw new Error(`load CRD ${f}: not valid YAML`, { cause });
      }
    });
}
