// Git servers a network peer controls, against the real kube-apiserver: one that accepts and never answers, one that
// trickles a byte at a time, one that answers garbage and one whose ref advertisement never ends. Each GitRepository
// must fail within its spec.timeout with a reason and a message that names the fault, be retried (not stalled), and
// leave no git process behind, while a healthy GitRepository on the same controller keeps following its branch.
import { execFileSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import type {} from "@capstan/cluster/vitest-setup";
import { getCondition } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GitRepositoryHarness } from "../testing/gitrepository-harness.js";

let h: GitRepositoryHarness;
const servers: Server[] = [];
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();

/** A TCP server on loopback whose connections are handed to `onConnection`; closed (with its sockets) after the file. */
async function hostile(onConnection: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

const every = (ms: number, fn: () => void) => {
  const t = setInterval(fn, ms);
  timers.add(t);
  return t;
};

/** git processes whose command line names this port: what a timed-out fetch must not leave behind. */
function gitProcessesFor(url: string): string[] {
  const port = new URL(url).port;
  try {
    return execFileSync("pgrep", ["-af", `git.*127\\.0\\.0\\.1:${port}`], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() && !l.includes("pgrep"));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

beforeAll(async () => {
  h = await GitRepositoryHarness.start({
    kubeconfigPath: testKubeconfigPath(inject("capstanKubeconfig")),
    prefix: "gitrepo-hostile",
    specDefaults: { ref: { branch: "main" }, timeout: "3s" },
  });
}, 120_000);

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await h?.stop();
});

interface Row {
  name: string;
  given: string;
  serve: (socket: Socket) => void;
  message: RegExp;
}

const rows: Row[] = [
  {
    name: "hanging",
    given: "a server that accepts the connection and never answers",
    serve: () => undefined,
    message: /timed out after 3s/,
  },
  {
    name: "trickling",
    given: "a server that trickles one byte of its headers every 200 ms",
    serve: (socket) => {
      const headers = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n`);
      let i = 0;
      const t = every(200, () => {
        if (socket.destroyed) return clearInterval(t);
        socket.write(headers.subarray(i % headers.length, (i % headers.length) + 1));
        i++;
      });
    },
    message: /timed out after 3s/,
  },
  {
    name: "garbage",
    given: "a server that answers bytes that are not HTTP",
    serve: (socket) => {
      socket.once("data", () => socket.end(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256))));
    },
    message: /git ls-remote: fatal: unable to access .*: Received HTTP\/0\.9 when not allowed/,
  },
  {
    name: "endless",
    given: "a server whose ref advertisement never ends",
    serve: (socket) => {
      socket.once("data", () => {
        socket.write(
          "HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        const line = (n: number) => {
          const body = `${"0".repeat(40)} refs/heads/b${n}\n`;
          const pkt = `${(body.length + 4).toString(16).padStart(4, "0")}${body}`;
          return `${pkt.length.toString(16)}\r\n${pkt}\r\n`;
        };
        let n = 0;
        const t = every(5, () => {
          if (socket.destroyed) return clearInterval(t);
          socket.write(Array.from({ length: 200 }, () => line(n++)).join(""));
        });
      });
    },
    message: /git ls-remote: timed out after 3s/,
  },
];

describe("GitRepository against hostile git servers", () => {
  it("Given a healthy repository / should become Ready (the control for every row below)", async () => {
    const r = await h.repo("healthy.git");
    const head = await r.commit({ "a.yaml": "a: 1\n" });
    await h.create("healthy", { url: `${h.git.url}/healthy.git` });
    const obj = await h.readyAt("healthy", `main@sha1:${head}`);
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "True", reason: "Succeeded" });
    expect(getCondition(obj, "FetchFailed")).toBeUndefined();
  });

  it.each(rows)("Given $given / should fail with GitOperationFailed, retry, and leave no git process", async (row) => {
    const base = await hostile(row.serve);
    const url = `${base}/${row.name}.git`;
    await h.create(row.name, { url });
    const obj = await h.failing(row.name, "GitOperationFailed");
    expect(getCondition(obj, "FetchFailed")).toMatchObject({ status: "True", reason: "GitOperationFailed" });
    expect(getCondition(obj, "FetchFailed")?.message).toMatch(row.message);
    expect(getCondition(obj, "Stalled")).toBeUndefined();
    expect(getCondition(obj, "Reconciling")?.status).toBe("True");
    expect(obj.status?.artifact).toBeUndefined();
    // Suspend it, then no git process may remain for this server: a timed-out fetch kills its whole process group.
    await h.client.mergePatch(h.ref(row.name), { spec: { suspend: true } });
    await eventually(() => gitProcessesFor(url).length === 0, { what: `no git process left for ${row.name}` });
  });

  it("Given all the hostile servers above / should keep following a healthy repository", async () => {
    // Its own object (not the control's), so it passes or fails on its own when run alone.
    const r = await h.repo("healthy-later.git");
    const first = await r.commit({ "a.yaml": "a: 1\n" });
    await h.create("healthy-later", { url: `${h.git.url}/healthy-later.git` });
    await h.readyAt("healthy-later", `main@sha1:${first}`);
    const next = await h.repo("healthy-next.git");
    const head = await next.commit({ "b.yaml": "b: 1\n" });
    await h.client.mergePatch(h.ref("healthy-later"), { spec: { url: `${h.git.url}/healthy-next.git` } });
    const obj = await h.readyAt("healthy-later", `main@sha1:${head}`);
    expect(getCondition(obj, "Ready")).toMatchObject({ status: "True", reason: "Succeeded" });
  });
});
