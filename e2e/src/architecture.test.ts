// Guards the first rule of the architecture: controllers depend on @capstan/api and @capstan/runtime, never on one
// another, so each can be installed, released and scaled alone.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..");
const controllers = readdirSync(join(root, "packages")).filter((d) => d.endsWith("-controller"));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist") return [];
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.[cm]?[jt]s$/.test(name) ? [path] : [];
  });
}

describe("Given the controller packages", () => {
  it("should find the three controllers", () => {
    expect(controllers.sort()).toEqual(["kustomize-controller", "notification-controller", "source-controller"]);
  });

  it.each(controllers)("should keep %s's package.json free of other controllers", (name) => {
    const pkg = JSON.parse(readFileSync(join(root, "packages", name, "package.json"), "utf8")) as Record<
      string,
      Record<string, string> | undefined
    >;
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies });
    expect(deps.filter((d) => /^@capstan\/.*-controller$/.test(d))).toEqual([]);
  });

  it.each(controllers)("should keep %s's sources from importing another controller", (name) => {
    const dir = join(root, "packages", name);
    const offenders = sourceFiles(join(dir, "src")).flatMap((file) => {
      const text = readFileSync(file, "utf8");
      const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] ?? "");
      return specifiers
        .filter((s) => {
          if (/^@capstan\/.*-controller/.test(s)) return true;
          if (!s.startsWith(".")) return false;
          const target = relative(dir, resolve(file, "..", s));
          return target.startsWith("..");
        })
        .map((s) => `${relative(root, file)} imports ${s}`);
    });
    expect(offenders).toEqual([]);
  });
});
