import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ControllerProcess, spawnController } from "./controller-process.js";

// A stand-in controller: logs JSON lines (and one that is not JSON) to stderr, prints to stdout, exits 0 on SIGTERM.
// The SIGTERM handler is installed before the first line, so a test that waits for "starting" may signal at once.
const fakeController = `
  const log = (o) => process.stderr.write(JSON.stringify(o) + "\\n");
  process.on("SIGTERM", () => { log({ msg: "stopped" }); process.exit(0); });
  log({ msg: "starting", args: process.argv.slice(1), token: process.env.FAKE_TOKEN });
  process.stderr.write("not json\\n");
  process.stdout.write("plain stdout\\n");
  setTimeout(() => log({ msg: "serving", url: "http://127.0.0.1:1", paths: ["/readyz", "/healthz"] }), 200);
  setTimeout(() => log({ msg: "serving", url: "http://127.0.0.1:2", paths: ["/metrics"] }), 250);
  setInterval(() => {}, 1000);
`;

const started: ControllerProcess[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) await p.kill();
});

function start(healthUrl?: string): ControllerProcess {
  const p = spawnController({
    name: "fake-controller",
    entry: ["-e", fakeController, "--"],
    args: ["--flag=1"],
    env: { FAKE_TOKEN: "t0ken" },
    ...(healthUrl ? { healthUrl } : {}),
  });
  started.push(p);
  return p;
}

describe("spawnController", () => {
  it("Given JSON log lines on stderr / should parse them, keep non-JSON lines as raw text and wait for later ones", async () => {
    const p = start();
    const first = await p.waitForLog((l) => l.msg === "starting");
    expect(first).toMatchObject({ args: ["--flag=1"], token: "t0ken" });
    expect(await p.urls()).toEqual({ health: "http://127.0.0.1:1", metrics: "http://127.0.0.1:2" });
    expect(p.logs).toContainEqual({ msg: "not json", raw: true });
    // stdout is another pipe: nothing orders its bytes against stderr's lines until the process has ended.
    await p.terminate();
    expect(p.output()).toContain("plain stdout");
    expect(p.output()).toContain("t0ken");
  });

  it("Given SIGTERM / should resolve terminate() with the exit code once the last line is read", async () => {
    const p = start();
    await p.waitForLog((l) => l.msg === "starting");
    expect(await p.terminate()).toEqual({ code: 0, signal: null });
    // Read synchronously after terminate(): it resolves only once the process's output is closed.
    expect(p.logs.at(-1)?.msg).toBe("stopped");
  });

  it("Given kill() / should end the process with SIGKILL", async () => {
    const p = start();
    await p.waitForLog((l) => l.msg === "starting");
    await p.kill();
    expect(await p.exited).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("Given no matching line in time / should reject naming the process and showing the log tail", async () => {
    const p = start();
    // The short deadline starts once the process has logged, so a slow start on a loaded machine cannot fail it.
    await p.waitForLog((l) => l.msg === "starting");
    await expect(p.waitForLog((l) => l.msg === "never", 300)).rejects.toThrow(/fake-controller pid \d+: .*starting/s);
  });

  it("Given a health URL / should resolve ready() once /readyz answers 200", async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      res.statusCode = calls < 3 ? 503 : 200;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const p = start(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await p.ready(10_000);
      expect(calls).toBe(3);
    } finally {
      server.close();
    }
  });

  it("Given a process that exits before it is ready / should reject ready()", async () => {
    const p = spawnController({
      name: "short-lived",
      entry: ["-e", "process.exit(3)"],
      args: [],
      healthUrl: "http://127.0.0.1:1",
    });
    started.push(p);
    await p.exited;
    await expect(p.ready(5_000)).rejects.toThrow(/short-lived exited early/);
  });
});
