import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Tests import workspace packages from source: each package's "capstan-source" export condition becomes an alias.
const packageDirs = [
  ...readdirSync("packages").map((d) => join("packages", d)),
  ...readdirSync("tools").map((d) => join("tools", d)),
  "e2e",
  "bench",
].filter((d) => existsSync(join(d, "package.json")));

type Exports = Record<string, { "capstan-source"?: string }>;
const alias = packageDirs.flatMap((dir) => {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; exports?: Exports };
  return Object.entries(pkg.exports ?? {}).flatMap(([sub, target]) =>
    target["capstan-source"]
      ? [
          {
            find: new RegExp(`^${pkg.name}${sub === "." ? "" : sub.slice(1)}$`),
            replacement: resolve(dir, target["capstan-source"]),
          },
        ]
      : [],
  );
});

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ["./tools/cluster/src/vitest/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    projects: packageDirs.map((dir) => ({
      extends: true,
      test: {
        name: (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name,
        root: resolve(dir),
        include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      },
    })),
  },
});
