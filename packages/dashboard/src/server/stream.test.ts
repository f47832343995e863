import { describe, expect, it } from "vitest";
import { acceptsGzip } from "./stream.js";

describe("Given a stream request's Accept-Encoding", () => {
  it.each<[string | undefined, boolean]>([
    ["gzip, deflate, br, zstd", true],
    ["br;q=1.0, gzip;q=0.8", true],
    ["GZIP", true],
    ["gzip;q=0", false],
    ["deflate, br", false],
    ["identity", false],
    ["", false],
    [undefined, false],
  ])("%j should compress: %s", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
