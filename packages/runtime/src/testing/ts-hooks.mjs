// Lets `node --experimental-transform-types --conditions=capstan-source --import <this file> main.ts` run the
// TypeScript sources directly: imports are written with .js extensions (nodenext) and resolve to the .ts file.
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      if (specifier.endsWith(".js") && (specifier.startsWith(".") || specifier.startsWith("file:"))) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw err;
    }
  },
});
