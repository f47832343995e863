// Lets `node --experimental-transform-types --conditions=capstan-source --import @capstan/cluster/ts-hooks.mjs main.ts`
// run a package's TypeScript sources as a process (process tests, benchmarks): imports are written with .js extensions
// (nodenext) and resolve to the .ts file next to them when no .js file is there.
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const relative = specifier.startsWith(".") || specifier.startsWith("file:");
      if (relative && specifier.endsWith(".js")) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw err;
    }
  },
});
