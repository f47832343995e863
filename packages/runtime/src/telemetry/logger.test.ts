import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

describe("createLogger", () => {
  it("Given the json encoding / should write Flux-shaped JSON lines", () => {
    const out = sink();
    createLogger({ destination: out.stream }).info({ name: "app" }, "reconciled");
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: "info", msg: "reconciled", name: "app" });
    expect(typeof line.ts).toBe("string");
  });

  it("Given the console encoding / should write a human line (pino-pretty, loaded on this first use)", () => {
    const out = sink();
    createLogger({ destination: out.stream, encoding: "console" }).info({ name: "app" }, "reconciled");
    expect(out.text()).toMatch(/INFO.*reconciled/);
    expect(() => JSON.parse(out.text())).toThrow();
  });
});
