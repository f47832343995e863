import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commonFlags, controllerFlags, runtimeNamespace } from "./common.js";
import { formatDuration, parseDuration } from "./duration.js";
import { FlagError, parseFlags } from "./flags.js";

const parse = (argv: string[]) => {
  const r = parseFlags("test-controller", commonFlags, argv);
  if (r.help) throw new Error("unexpected help");
  return r.values;
};

describe("parseFlags", () => {
  it("Given no arguments, should return Flux's defaults", () => {
    const v = parse([]);
    expect(v).toMatchObject({
      concurrent: 4,
      kubeApiQps: 50,
      kubeApiBurst: 300,
      leaderElect: false,
      leaderElectionLeaseDuration: 35_000,
      leaderElectionRenewDeadline: 30_000,
      leaderElectionRetryPeriod: 5_000,
      healthAddr: ":9440",
      metricsAddr: ":8080",
      logLevel: "info",
      logEncoding: "json",
      watchAllNamespaces: true,
      watchLabelSelector: "",
      minRetryDelay: 750,
      maxRetryDelay: 900_000,
    });
  });

  it.each([
    [["--concurrent", "8"], { concurrent: 8 }],
    [["--concurrent=2"], { concurrent: 2 }],
    [["--leader-elect"], { leaderElect: true }],
    [["--enable-leader-election=true"], { enableLeaderElection: true }],
    [["--watch-all-namespaces=false"], { watchAllNamespaces: false }],
    [["--no-watch-all-namespaces"], { watchAllNamespaces: false }],
    [["--leader-election-lease-duration=1m30s"], { leaderElectionLeaseDuration: 90_000 }],
    [["--log-level", "debug", "--log-encoding=console"], { logLevel: "debug", logEncoding: "console" }],
    [
      ["--watch-label-selector=sharding.fluxcd.io/key in (shard1)"],
      { watchLabelSelector: "sharding.fluxcd.io/key in (shard1)" },
    ],
  ])("Given %j, should parse %j", (argv, expected) => {
    expect(parse(argv)).toMatchObject(expected);
  });

  it.each([
    [["--concurrent=0"], /--concurrent: want an integer >= 1/],
    [["--concurrent=two"], /--concurrent/],
    [["--log-level=verbose"], /want one of trace, debug, info, error/],
    [["--leader-elect=maybe"], /want true or false/],
    [["--leader-election-retry-period=5"], /want a duration/],
    [["--no-such-flag"], /Unknown option '--no-such-flag'.*see --help/],
    [["positional"], /positional/],
  ])("Given %j, should fail with a message naming the flag", (argv, message) => {
    expect(() => parse(argv)).toThrow(FlagError);
    expect(() => parse(argv)).toThrow(message);
  });

  it.each([
    [[], false],
    [["--no-cross-namespace-refs"], true],
    [["--no-cross-namespace-refs=true"], true],
    [["--no-cross-namespace-refs=false"], false],
  ])("Given a boolean flag whose own name starts with no- and %j, should read %s", (argv, expected) => {
    const specs = {
      ...commonFlags,
      "no-cross-namespace-refs": { type: "boolean", default: false, description: "Flux's flag." },
    } as const;
    const r = parseFlags("test-controller", specs, argv);
    expect(r.help === false && r.values.noCrossNamespaceRefs).toBe(expected);
  });

  it("Given --help, should list every flag with its default", () => {
    const r = parseFlags("test-controller", commonFlags, ["--help"]);
    expect(r.help).toBe(true);
    if (!r.help) return;
    for (const name of Object.keys(commonFlags)) expect(r.usage).toContain(`--${name}`);
    expect(r.usage).toContain("(default 35s)");
    expect(r.usage).toContain('(default ":8080")');
  });

  it("Given a controller's own flags, should extend the common set and let it override a default", () => {
    const specs = controllerFlags({
      concurrent: { type: "number", default: 2, integer: true, min: 1, description: "workers" },
      "storage-path": { type: "string", default: "/data", description: "where artifacts go" },
    });
    const r = parseFlags("source-controller", specs, ["--storage-path=/tmp/x"]);
    expect(r.help).toBe(false);
    if (r.help) return;
    expect(r.values.storagePath).toBe("/tmp/x");
    expect(r.values.concurrent).toBe(2);
    expect(r.values.metricsAddr).toBe(":8080");
  });
});

describe("runtimeNamespace", () => {
  it.each([
    [{ namespace: "a" }, { RUNTIME_NAMESPACE: "b" }, "a"],
    [{ namespace: "" }, { RUNTIME_NAMESPACE: "b", POD_NAMESPACE: "c" }, "b"],
    [{ namespace: "" }, { POD_NAMESPACE: "c" }, "c"],
    [{ namespace: "" }, {}, "default"],
  ])("Given flags %j and env %j, should pick %s", (flags, env, expected) => {
    expect(runtimeNamespace(flags, env)).toBe(expected);
  });
});

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["750ms", 750],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["-2s", -2000],
  ])("Given %s, should be %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "1d", "s", "1m x"])("Given %j, should throw", (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });

  it.each([
    [0, "0s"],
    [0.0004, "0s"],
    [0.5, "500µs"],
    [750, "750ms"],
    [152.3487, "152.349ms"],
    [1000, "1s"],
    [1234.567, "1.234567s"],
    [90_000, "1m30s"],
    [60_500, "1m0.5s"],
    [3_600_000, "1h0m0s"],
    [-2000, "-2s"],
  ])("Given %d ms, should format it as Go prints a time.Duration: %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("Given any whole-millisecond duration, should parse its Go formatting back to itself", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBeCloseTo(ms, 6);
      }),
    );
  });
});
