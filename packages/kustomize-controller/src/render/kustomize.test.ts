// The kustomize child's lifecycle, with a stand-in binary that behaves like a hung build with a child of its own:
// the whole process group dies at the timeout, on cancel, and when the controller exits.

import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReconcileError } from "@capstan/runtime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatDuration, killAllBuilds, kustomizeBuild } from "./kustomize.js";

let work: string;
let binary: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "kustomize-test-"));
  binary = join(work, "fake-kustomize");
  // Starts a grandchild that would outlive a plain kill of the child, writes both pids, then hangs.
  await writeFile(binary, `#!/bin/sh\nsleep 600 &\necho "$$ $!" > "${work}/pids"\nwait\n`);
  await chmod(binary, 0o755);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pids(): Promise<number[]> {
  for (;;) {
    const text = await readFile(join(work, "pids"), "utf8").catch(() => "");
    if (text.trim().split(" ").length === 2) return text.trim().split(" ").map(Number);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function gone(list: number[]): Promise<boolean> {
  for (let i = 0; i < 100 && list.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
  return !list.some(alive);
}

describe("kustomizeBuild process lifecycle", () => {
  it("Given a build that hangs past its timeout, should kill its whole process group and say it timed out", async () => {
    const build = kustomizeBuild(work, { binary, timeoutMs: 1500, label: "./apps" }).catch((e: unknown) => e);
    const [child, grandchild] = await pids();
    const err = await build;
    expect(err).toMatchObject({ reason: "BuildFailed" });
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as Error).message).toMatch(
      /^kustomize build timed out after 1\.5s \(the source holds 0 resource documents under \.\/apps\); raise spec\.timeout$/,
    );
    expect(await gone([child as number, grandchild as number])).toBe(true);
  });

  it("Given a canceled reconcile, should kill the build's process group", async () => {
    const ac = new AbortController();
    const build = kustomizeBuild(work, { binary, timeoutMs: 60_000, signal: ac.signal }).catch((e: unknown) => e);
    const [child, grandchild] = await pids();
    ac.abort();
    expect((await build) as Error).toMatchObject({ reason: "BuildFailed" });
    expect((await build) as Error).toBeInstanceOf(ReconcileError);
    expect(await gone([child as number, grandchild as number])).toBe(true);
  });

  it("Given the controller exiting mid-build, should kill the build's process group from its exit hook", async () => {
    const build = kustomizeBuild(work, { binary, timeoutMs: 60_000 }).catch((e: unknown) => e);
    const [child, grandchild] = await pids();
    expect(process.listeners("exit")).toContain(killAllBuilds);
    killAllBuilds();
    expect(await gone([child as number, grandchild as number])).toBe(true);
    await build;
  });

  it("Given a source of many documents, should name the timeout as a size problem", async () => {
    const doc = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    await writeFile(join(work, "all.yaml"), doc.repeat(10_000));
    await writeFile(join(work, "kustomization.yaml"), "kind: Kustomization\nresources: [all.yaml]\n");
    const err = await kustomizeBuild(work, { binary, timeoutMs: 1000, label: "./big" }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      "kustomize build timed out after 1s; the source holds 10,000 resource documents under ./big, beyond what " +
        "kustomize builds in that time; split it or raise spec.timeout",
    );
  });

  it.each([
    [500, "500ms"],
    [1500, "1.5s"],
    [60_000, "1m"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
  ])("Given %dms, should format it as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
