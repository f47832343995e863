import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { advertisedAddress } from "./controller.js";

describe("advertisedAddress", () => {
  it.each([
    [
      "source-controller.flux-system.svc.cluster.local.",
      ":9090",
      9090,
      "source-controller.flux-system.svc.cluster.local.",
    ],
    ["", "127.0.0.1:0", 40123, "127.0.0.1:40123"],
    ["", ":9090", 9090, `${hostname()}:9090`],
    ["", "0.0.0.0:9090", 9090, `${hostname()}:9090`],
    ["", "[::1]:0", 5000, "[::1]:5000"],
  ])(
    "Given --storage-adv-addr=%j and --storage-addr=%j bound on %i / should advertise %j",
    (flag, addr, port, want) => {
      expect(advertisedAddress(flag, addr, port)).toBe(want);
    },
  );
});
