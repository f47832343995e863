import { describe, expect, it } from "vitest";
import { compileFilter, FilterError, requestVariable, resourcePredicates, validateFilters } from "./filter.js";

const repo = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "GitRepository",
  metadata: { name, namespace: "flux-system", labels },
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("Receiver CEL filters", () => {
  it.each([
    ["a syntax error", "req.ref ==", /^failed to parse the CEL expression 'req\.ref =='/],
    ["an unknown variable", "claims.sub == 'x'", /^failed to parse the CEL expression 'claims\.sub == 'x'': .*claims/],
    ["a non-boolean result", "res.metadata.name", /^CEL expression output type mismatch: expected bool, got dyn$/],
    // (Capstan) the runtime's parse-time bounds: a tenant's expression runs in the controller that serves everyone.
    [
      "a list literal beyond the bounds",
      `req.ref in [${Array.from({ length: 150 }, (_, i) => `'r${i}'`).join(", ")}]`,
      /^failed to parse the CEL expression 'req\.ref in \[/,
    ],
    [
      "comprehensions nested beyond the bounds",
      "[[[1]]].all(a, a.all(b, b.all(c, c > 0)))",
      /comprehensions nested 3 deep, more than the 2 allowed/,
    ],
  ])("Given %s, should refuse to compile it", (_, expr, message) => {
    expect(() => compileFilter(expr)).toThrow(message);
  });

  it("Given an invalid expression in the spec, should name it as Flux does", () => {
    expect(() => validateFilters({ resourceFilter: "1 +", resources: [] })).toThrow(
      /^invalid resourceFilter expression: failed to parse/,
    );
    expect(() =>
      validateFilters({
        resources: [
          { kind: "GitRepository", name: "*" },
          { kind: "Bucket", name: "b", filter: "1" },
        ],
      }),
    ).toThrow(
      'invalid filter expression for resources[1] (kind="Bucket", name="b"): CEL expression output type mismatch: expected bool, got int',
    );
    expect(() => validateFilters({ resourceFilter: "true", resources: [{ kind: "Bucket", name: "b" }] })).not.toThrow();
  });

  it("Given resources[].filter over req and res, should accept only the objects it selects", () => {
    const [byName, unfiltered] = resourcePredicates(
      {
        resources: [
          { kind: "GitRepository", name: "*", filter: "req.repository.name == res.metadata.name" },
          { kind: "GitRepository", name: "other" },
        ],
      },
      json({ repository: { name: "podinfo" } }),
      "application/json",
    );
    expect(byName?.(repo("podinfo"))).toBe(true);
    expect(byName?.(repo("other"))).toBe(false);
    expect(unfiltered).toBeUndefined();
  });

  it("Given resourceFilter and a resource's filter, should require both", () => {
    const [both] = resourcePredicates(
      {
        resourceFilter: "has(res.metadata.labels.team) && res.metadata.labels.team == 'apps'",
        resources: [{ kind: "GitRepository", name: "*", filter: "req.commits > 1" }],
      },
      json({ commits: 2 }),
      "application/json; charset=utf-8",
    );
    expect(both?.(repo("a", { team: "apps" }))).toBe(true);
    expect(both?.(repo("b", { team: "ops" }))).toBe(false);
    const [few] = resourcePredicates(
      { resources: [{ kind: "GitRepository", name: "*", filter: "req.commits > 1" }] },
      json({ commits: 1 }),
      "application/json",
    );
    expect(few?.(repo("a"))).toBe(false);
  });

  it("Given a request that is not JSON, should evaluate against an empty req", () => {
    expect(requestVariable(Buffer.from("ref=main"), "application/x-www-form-urlencoded")).toEqual({});
    const [p] = resourcePredicates(
      { resources: [{ kind: "GitRepository", name: "x", filter: "!has(req.ref)" }] },
      Buffer.from("ref=main"),
      undefined,
    );
    expect(p?.(repo("x"))).toBe(true);
  });

  it("Given a JSON request whose body does not parse, should fail without quoting the body", () => {
    const body = Buffer.from('{"secret-ish": ');
    const run = () =>
      resourcePredicates(
        { resources: [{ kind: "GitRepository", name: "x", filter: "true" }] },
        body,
        "application/json",
      );
    expect(run).toThrow(FilterError);
    expect(run).toThrow("failed to parse request body as JSON");
    expect(() => run()).not.toThrow(/secret-ish/);
  });

  it("Given an expression reading a key the request lacks, should fail the evaluation (no reconcile, an error)", () => {
    const [p] = resourcePredicates(
      { resources: [{ kind: "GitRepository", name: "x", filter: "req.ref == 'refs/heads/main'" }] },
      json({}),
      "application/json",
    );
    expect(() => p?.(repo("x"))).toThrow(FilterError);
  });

  it("Given no expressions, should not read the body at all", () => {
    expect(
      resourcePredicates({ resources: [{ kind: "GitRepository", name: "x" }] }, Buffer.from("{"), "application/json"),
    ).toEqual([undefined]);
  });
});
