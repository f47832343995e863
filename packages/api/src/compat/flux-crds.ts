// Flux's own CRDs at pinned versions, for the conformance test. They come from the Go module proxy, as the control
// plane's sources do (`go mod download`, so the module is checked against the checksum database), and are never
// committed: the files a test needs are copied into ~/.cache/capstan/flux-crds/<module>@<version>/ and read from
// there afterwards. The module zip of each controller's root module holds config/crd/bases/*.yaml.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import type { CrdDocument } from "./crd-diff.js";

/** The Flux distribution whose APIs Capstan serves. */
export const fluxRelease = { module: "github.com/fluxcd/flux2/v2", version: "v2.9.4" } as const;

export interface FluxController {
  /** Folder under flux2's manifests/bases/ that pins this controller's release. */
  name: string;
  module: string;
  version: string;
  /** CRD files (config/crd/bases/) of the kinds Capstan serves. */
  crds: string[];
}

/** The controllers of Flux v2.9.4 (flux2's manifests/bases/<name>/kustomization.yaml names these releases). */
export const fluxControllers: FluxController[] = [
  {
    name: "source-controller",
    module: "github.com/fluxcd/source-controller",
    version: "v1.9.4",
    crds: [
      "source.toolkit.fluxcd.io_gitrepositories.yaml",
      "source.toolkit.fluxcd.io_helmrepositories.yaml",
      "source.toolkit.fluxcd.io_helmcharts.yaml",
      "source.toolkit.fluxcd.io_ocirepositories.yaml",
    ],
  },
  {
    name: "kustomize-controller",
    module: "github.com/fluxcd/kustomize-controller",
    version: "v1.9.4",
    crds: ["kustomize.toolkit.fluxcd.io_kustomizations.yaml"],
  },
  {
    name: "notification-controller",
    module: "github.com/fluxcd/notification-controller",
    version: "v1.9.3",
    crds: [
      "notification.toolkit.fluxcd.io_alerts.yaml",
      "notification.toolkit.fluxcd.io_providers.yaml",
      "notification.toolkit.fluxcd.io_receivers.yaml",
    ],
  },
  {
    name: "helm-controller",
    module: "github.com/fluxcd/helm-controller",
    version: "v1.6.3",
    crds: ["helm.toolkit.fluxcd.io_helmreleases.yaml"],
  },
];

const run = promisify(execFile);
const downloadTimeoutMs = 5 * 60_000;

export function cacheDir(): string {
  const base =
    process.env.CAPSTAN_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "capstan");
  return join(base, "flux-crds");
}

function goBinary(): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "go"))) return join(dir, "go");
  }
  if (existsSync("/usr/local/go/bin/go")) return "/usr/local/go/bin/go";
  throw new Error("flux CRDs: the go command is needed to download Flux's modules from the Go module proxy");
}

/** Downloads module@version through the Go module proxy; resolves to the extracted module directory. */
async function downloadModule(module: string, version: string): Promise<string> {
  const ref = `${module}@${version}`;
  let stdout: string;
  try {
    // Outside any module (a fresh temp dir), so no go.mod around the checkout interferes.
    const cwd = await mkdtemp(join(tmpdir(), "capstan-flux-mod-"));
    try {
      ({ stdout } = await run(goBinary(), ["mod", "download", "-json", ref], {
        cwd,
        timeout: downloadTimeoutMs,
        maxBuffer: 1 << 20,
        env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" },
      }));
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  } catch (cause) {
    const out = (cause as { stdout?: string }).stdout ?? "";
    throw new Error(`flux CRDs: go mod download ${ref} failed${out ? `: ${out.trim()}` : ""}`, { cause });
  }
  const result = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (result.Error || !result.Dir) throw new Error(`flux CRDs: go mod download ${ref}: ${result.Error ?? "no Dir"}`);
  return result.Dir;
}

/** The files of module@version at `paths` (relative to the module root), from the cache or downloaded once. */
export async function moduleFiles(module: string, version: string, paths: string[]): Promise<Map<string, string>> {
  const dir = join(cacheDir(), `${module.replaceAll("/", "_")}@${version}`);
  const missing = paths.filter((p) => !existsSync(join(dir, p)));
  if (missing.length > 0) {
    const source = await downloadModule(module, version);
    for (const p of missing) {
      const target = join(dir, p);
      await mkdir(join(target, ".."), { recursive: true });
      const tmp = `${target}.tmp-${process.pid}`;
      try {
        await copyFile(join(source, p), tmp);
      } catch (cause) {
        throw new Error(`flux CRDs: ${module}@${version} has no ${p}`, { cause });
      }
      await rename(tmp, target);
    }
  }
  const out = new Map<string, string>();
  for (const p of paths) out.set(p, await readFile(join(dir, p), "utf8"));
  return out;
}

/** Flux's CRD for each file name in `fluxControllers`, parsed. */
export async function fluxCrds(): Promise<Map<string, CrdDocument>> {
  const out = new Map<string, CrdDocument>();
  for (const c of fluxControllers) {
    const files = await moduleFiles(
      c.module,
      c.version,
      c.crds.map((f) => `config/crd/bases/${f}`),
    );
    for (const f of c.crds) out.set(f, parse(files.get(`config/crd/bases/${f}`) ?? "") as CrdDocument);
  }
  return out;
}

/** The release flux2's manifests pin for each controller, e.g. {"kustomize-controller": "v1.9.4"}. */
export async function fluxReleasePins(): Promise<Record<string, string>> {
  const paths = fluxControllers.map((c) => `manifests/bases/${c.name}/kustomization.yaml`);
  const files = await moduleFiles(fluxRelease.module, fluxRelease.version, paths);
  const pins: Record<string, string> = {};
  for (const c of fluxControllers) {
    const text = files.get(`manifests/bases/${c.name}/kustomization.yaml`) ?? "";
    const m = new RegExp(`/fluxcd/${c.name}/releases/download/(v[^/]+)/`).exec(text);
    if (m?.[1]) pins[c.name] = m[1];
  }
  return pins;
}
