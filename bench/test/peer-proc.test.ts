// The bench's memory readings from /proc against a real process: VmHWM keeps a freed allocation's peak until
// resetPeakRss, which brings it back to the resident set (what lets the bench leave its own /metrics scrapes out).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { peakRssKiB, resetPeakRss, treeRssKiB } from "../peer/proc.js";

describe("resetPeakRss", () => {
  it("Given a process that touched 64 MiB and freed it / should drop its VmHWM back to its resident set", async () => {
    const child = spawn(
      process.execPath,
      [
        "--expose-gc",
        "-e",
        "let b = Buffer.alloc(64 * 1024 * 1024, 1); b = undefined; globalThis.gc(); console.log('freed'); setInterval(() => {}, 1000);",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await once(child.stdout, "data");
      const pid = child.pid ?? 0;
      const before = await peakRssKiB(pid);
      const rss = await treeRssKiB(pid);
      expect(before - rss).toBeGreaterThan(40 * 1024); // the freed buffer's peak is still in VmHWM
      await resetPeakRss(pid);
      const after = await peakRssKiB(pid);
      expect(after).toBeLessThan(before - 40 * 1024);
      expect(after).toBeGreaterThanOrEqual(rss - 1024);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
