import { FlagError } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import { parseNotificationFlags } from "./flags.js";

const chartArgs = [
  "--health-addr=:9440",
  "--metrics-addr=:8080",
  "--log-level=info",
  "--log-encoding=json",
  "--watch-all-namespaces=true",
  "--concurrent=4",
  "--leader-elect=true",
  "--receiver-addr=:9292",
];

function values(argv: string[]) {
  const parsed = parseNotificationFlags("notification-controller", argv);
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.values;
}

describe("notification-controller flags", () => {
  it("Given the Helm chart's arguments / should parse them with Flux's defaults for the rest", () => {
    expect(values(chartArgs)).toMatchObject({
      healthAddr: ":9440",
      metricsAddr: ":8080",
      watchAllNamespaces: true,
      concurrent: 4,
      leaderElect: true,
      receiverAddr: ":9292",
      rateLimitInterval: 5 * 60_000,
      noCrossNamespaceRefs: false,
    });
  });

  it.each([
    [["--no-cross-namespace-refs"], true],
    [["--no-cross-namespace-refs=true"], true],
    [["--no-cross-namespace-refs=false"], false],
    [[], false],
  ])("Given %j / should set noCrossNamespaceRefs to %s", (argv, expected) => {
    expect(values([...chartArgs, ...argv]).noCrossNamespaceRefs).toBe(expected);
  });

  it("Given --rate-limit-interval=30s / should read it as 30,000 ms", () => {
    expect(values(["--rate-limit-interval=30s"]).rateLimitInterval).toBe(30_000);
  });

  it("Given --help / should list the controller's own flags", () => {
    const parsed = parseNotificationFlags("notification-controller", ["--help"]);
    expect(parsed.help).toBe(true);
    const usage = parsed.help ? parsed.usage : "";
    for (const flag of ["--receiver-addr", "--rate-limit-interval", "--no-cross-namespace-refs", "--leader-elect"]) {
      expect(usage).toContain(flag);
    }
  });

  it("Given a bad value / should throw a FlagError", () => {
    expect(() => values(["--no-cross-namespace-refs=maybe"])).toThrow(FlagError);
    expect(() => values(["--rate-limit-interval=soon"])).toThrow(FlagError);
  });
});
