// GitRepository fetch cost, candidate by candidate: N GitRepositories of one URL and branch fetched the way the
// reconciler does (resolveSource = ls-remote, then fetchSource into a fresh directory), `--concurrent` at a time,
// first cold, then again after a push of one changed file. Candidates: the plain path (a fresh repository per fetch:
// init, remote add, fetch, rev-parse, checkout, log) and the object cache (git/cache.ts: one shared ls-remote in
// flight, one shallow fetch into a bare repository per URL and credentials, one read-tree per checkout). Reports wall
// time, CPU of this process and of its reaped children (git, and the git server's http-backend, which runs here too),
// and git processes by subcommand (a PATH shim). No control plane.
//
//   pnpm --filter @capstan/bench bench:fetch -- --repos 100 --files 4 --concurrent 4
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createGitShim, createTestRepo, startGitHttpServer } from "@capstan/gitserver";
import { GitCache } from "../../packages/source-controller/src/git/cache.js";
import { fetchSource, type GitSourceSpec, resolveSource } from "../../packages/source-controller/src/git/source.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    repos: { type: "string", default: "100" },
    files: { type: "string", default: "4" },
    concurrent: { type: "string", default: "4" },
    rounds: { type: "string", default: "2" },
  },
});
const repos = Number(values.repos);
const files = Number(values.files);
const concurrent = Number(values.concurrent);
const rounds = Number(values.rounds);

/** CPU seconds of this process (self) and of its reaped children, from /proc/self/stat (clock ticks of 10 ms). */
async function cpu(): Promise<{ self: number; children: number }> {
  const stat = await readFile("/proc/self/stat", "utf8");
  const f = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  // Fields 14-17 (utime, stime, cutime, cstime) are at 11-14 after the ")".
  return { self: ((f[11] ?? 0) + (f[12] ?? 0)) / 100, children: ((f[13] ?? 0) + (f[14] ?? 0)) / 100 };
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const work = await mkdtemp(join(tmpdir(), "capstan-bench-fetch-"));
const shim = await createGitShim(await mkdir(join(work, "shim"), { recursive: true }).then(() => join(work, "shim")));
process.env.PATH = `${shim.binDir}:${process.env.PATH ?? ""}`;
const git = await startGitHttpServer({ root: join(work, "git") });
try {
  const repo = await createTestRepo(join(work, "git"), "app.git", "main");
  const content = (v: number) => {
    const out: Record<string, string> = {};
    for (let i = 0; i < files; i++)
      out[`deploy/f-${i}.yaml`] = `kind: ConfigMap\nmetadata:\n  name: f-${i}\ndata:\n  v: "${v}"\n`;
    return out;
  };
  await repo.commit(content(0), { message: "first" });
  const url = `${git.url}/app.git`;
  const rows: string[] = [];
  for (const candidate of ["plain", "cache"] as const) {
    const cache = candidate === "cache" ? new GitCache({ parent: join(work, "cache") }) : undefined;
    for (let round = 0; round < rounds; round++) {
      if (round > 0)
        await repo.commit(
          { "deploy/f-0.yaml": `kind: ConfigMap\nmetadata:\n  name: f-0\ndata:\n  v: "${round}-${candidate}"\n` },
          { message: `round ${round}` },
        );
      const before = await shim.invocations();
      const c0 = await cpu();
      const t0 = performance.now();
      await pool(
        Array.from({ length: repos }, (_, i) => i),
        concurrent,
        async (i) => {
          const spec: GitSourceSpec = { url, ref: { branch: "main" }, ...(cache ? { cache } : {}) };
          const dir = join(work, "co", `${candidate}-${round}-${i}`);
          const resolved = await resolveSource(spec);
          await fetchSource(spec, dir, resolved);
          await rm(dir, { recursive: true, force: true });
        },
      );
      const wall = (performance.now() - t0) / 1000;
      const c1 = await cpu();
      const ran = (await shim.invocations()).slice(before.length).filter((a) => a[0] !== "http-backend");
      const by = new Map<string, number>();
      for (const a of ran) {
        const sub = a.find((x) => !x.startsWith("-")) ?? "?";
        by.set(sub, (by.get(sub) ?? 0) + 1);
      }
      const perFetch = (ran.length / repos).toFixed(2);
      const detail = [...by].map(([k, v]) => `${k} ${v}`).join(", ");
      rows.push(
        `| ${candidate} | ${round === 0 ? "cold" : "after a push"} | ${wall.toFixed(2)} s | ${(c1.self - c0.self).toFixed(2)} s | ${(c1.children - c0.children).toFixed(2)} s | ${perFetch} (${detail}) |`,
      );
      process.stderr.write(`${rows.at(-1)}\n`);
    }
    await cache?.dispose();
  }
  console.log(`${repos} GitRepositories of one URL and branch, ${files} files, ${concurrent} at a time\n`);
  console.log("| candidate | round | wall | CPU self | CPU children (git + server) | git processes per fetch |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await git.close();
  await rm(work, { recursive: true, force: true });
}
