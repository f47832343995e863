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
  it("should find the four controllers", () => {
    expect(controllers.sort()).toEqual([
      "helm-controller",
      "kustomize-controller",
      "notification-controller",
      "source-controller",
    ]);
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

// Dev tooling (tools/*: the local control plane, git servers, the e2e harness and the demo) stays out of the product:
// a controller's published build holds neither its own test helpers nor anything that imports tools/*.
describe("Given the controller packages' builds", () => {
  const tools = readdirSync(join(root, "tools"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const pkg = JSON.parse(readFileSync(join(root, "tools", d.name, "package.json"), "utf8")) as { name: string };
      return pkg.name;
    });
  const isTestFile = (file: string) => /\.test\.ts$/.test(file) || file.split("/").includes("testing");

  it("should find the dev tooling packages", () => {
    expect(tools.sort()).toEqual(["@capstan/cluster", "@capstan/devenv", "@capstan/gitserver"]);
  });

  it.each(controllers)("should leave tests and src/**/testing out of %s's tsconfig.build.json", (name) => {
    const text = readFileSync(join(root, "packages", name, "tsconfig.build.json"), "utf8");
    const config = JSON.parse(text.replace(/^\s*\/\/.*$/gm, "")) as { exclude?: string[] };
    expect(config.exclude).toEqual(expect.arrayContaining(["src/**/*.test.ts", "src/**/testing/**"]));
  });

  it.each(controllers)("should keep dev tooling out of %s's dependencies and shipped sources", (name) => {
    const dir = join(root, "packages", name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies ?? {}).filter((d) => tools.includes(d))).toEqual([]);
    const offenders = sourceFiles(join(dir, "src"))
      .filter((file) => !isTestFile(relative(dir, file)))
      .flatMap((file) => {
        const text = readFileSync(file, "utf8");
        const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] ?? "");
        return specifiers
          .filter((s) => tools.some((t) => s === t || s.startsWith(`${t}/`)))
          .map((s) => `${relative(root, file)} imports ${s}`);
      });
    expect(offenders).toEqual([]);
  });
});
