// Artifact build time for a large generated repository: Capstan's path (ls-remote, shallow fetch of the commit,
// reproducible tar.gz with ignore rules) against `git clone --depth 1` + `tar -czf` of the same tree, alternated in
// one run so the ratio is fair on a noisy machine.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTestRepo } from "@capstan/gitserver";
import { fetchSource, loadIgnoreMatcher, resolveSource, Storage } from "../../packages/source-controller/src/index.js";
import type { BenchContext } from "./context.js";
import { millis, percentile } from "./env.js";

const exec = promisify(execFile);

export interface BuildOptions {
  files: number;
  runs: number;
}

/** Manifest-like text: repetitive keys, some random values, so it compresses like real YAML does. */
function manifest(i: number): string {
  const seed = createHash("sha256").update(String(i)).digest("hex");
  const lines = [
    `apiVersion: v1`,
    `kind: ConfigMap`,
    `metadata:`,
    `  name: cm-${i}`,
    `  labels:`,
    `    app: app-${i % 50}`,
    `data:`,
  ];
  for (let k = 0; k < 40; k++) lines.push(`  key-${k}: "${seed.slice(k % 32, (k % 32) + 24)}-${(i * 31 + k) % 997}"`);
  return `${lines.join("\n")}\n`;
}

export async function benchBuild(ctx: BenchContext, options: BuildOptions): Promise<void> {
  const group = `artifact build, ${options.files} files`;
  const repo = await createTestRepo(ctx.gitRoot, "large.git", "main");
  const files: Record<string, string> = {};
  for (let i = 0; i < options.files; i++) files[`apps/app-${i % 50}/dir-${i % 7}/cm-${i}.yaml`] = manifest(i);
  const commit = await repo.commit(files, { message: "generated" });
  await rm(repo.work, { recursive: true, force: true });
  const url = `${ctx.gitUrl}/large.git`;
  const scratch = join(ctx.work, "build");
  await mkdir(scratch, { recursive: true });
  const storage = new Storage({ root: join(scratch, "storage"), advertisedAddress: "127.0.0.1:0" });
  const identity = { kind: "GitRepository", namespace: "bench", name: "large" };

  const ours = { fetch: [] as number[], archive: [] as number[], total: [] as number[], size: 0 };
  const base = { clone: [] as number[], tar: [] as number[], total: [] as number[], size: 0 };
  const gitEnv = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  for (let run = 0; run < options.runs; run++) {
    const dir = join(scratch, `capstan-${run}`);
    let t0 = performance.now();
    const spec = { url, ref: { branch: "main" } };
    const resolved = await resolveSource(spec);
    const checkout = await fetchSource(spec, dir, resolved);
    let t1 = performance.now();
    const matcher = await loadIgnoreMatcher(checkout.dir, undefined);
    const result = await storage.archive(storage.artifactPath(identity, `${commit}-${run}.tar.gz`), checkout.dir, {
      exclude: (p, isDir) => matcher.ignores(p, isDir),
    });
    let t2 = performance.now();
    ours.fetch.push(t1 - t0);
    ours.archive.push(t2 - t1);
    ours.total.push(t2 - t0);
    ours.size = result.size;
    await rm(dir, { recursive: true, force: true });

    const clone = join(scratch, `clone-${run}`);
    const tarball = join(scratch, `clone-${run}.tar.gz`);
    t0 = performance.now();
    await exec("git", ["clone", "-q", "--depth", "1", "--no-tags", "--single-branch", "--branch", "main", url, clone], {
      env: { ...process.env, ...gitEnv },
    });
    t1 = performance.now();
    await exec("tar", ["-czf", tarball, "--exclude=.git", "-C", clone, "."]);
    t2 = performance.now();
    base.clone.push(t1 - t0);
    base.tar.push(t2 - t1);
    base.total.push(t2 - t0);
    base.size = (await stat(tarball)).size;
    await rm(clone, { recursive: true, force: true });
    await rm(tarball, { force: true });
  }
  const med = (v: number[]) => percentile(v, 50);
  const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  ctx.report.record(group, `Capstan: ls-remote + shallow fetch (median of ${options.runs})`, millis(med(ours.fetch)));
  ctx.report.record(group, "Capstan: reproducible tar.gz", `${millis(med(ours.archive))} (${kib(ours.size)})`);
  ctx.report.record(group, "Capstan: total", millis(med(ours.total)));
  ctx.report.record(group, "baseline: git clone --depth 1", millis(med(base.clone)));
  ctx.report.record(group, "baseline: tar -czf", `${millis(med(base.tar))} (${kib(base.size)})`);
  ctx.report.record(group, "baseline: total", millis(med(base.total)));
  ctx.report.record(group, "ratio Capstan / baseline (total)", `${(med(ours.total) / med(base.total)).toFixed(2)}×`);
}
