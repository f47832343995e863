import { Environment } from "@marcbachmann/cel-js";
import { describe, expect, it } from "vitest";
import { CelError, celLimits, compileCel, comprehensionNesting, maxComprehensionNesting, toCel } from "./cel.js";
import { unsafeRegex } from "./regex.js";

describe("compileCel", () => {
  it("Given undeclared variables / should allow any name, dynamically typed, and compare JSON integers as ints", () => {
    const p = compileCel("status.replicas == 1 && metadata.?labels.orValue({}).size() == 0");
    expect(p.type).toBe("dyn");
    expect(p.evaluate(toCel({ status: { replicas: 1 }, metadata: {} }) as Record<string, unknown>)).toBe(true);
  });

  it("Given declared variables / should type-check the expression and report its result type", () => {
    expect(compileCel("res.kind == 'X'", { variables: { res: "map", req: "map" } }).type).toBe("bool");
    expect(() => compileCel("missing == 1", { variables: { res: "map" } })).toThrow(CelError);
    try {
      compileCel("missing == 1", { variables: { res: "map" } });
    } catch (err) {
      expect((err as CelError).stage).toBe("check");
      expect((err as CelError).message).not.toContain("\n");
    }
  });

  it("Given an expression that does not parse / should throw CelError at stage parse", () => {
    expect(() => compileCel("a ==")).toThrow(expect.objectContaining({ stage: "parse" }));
  });

  it(`Given more than ${celLimits.maxAstNodes} AST nodes / should refuse it at parse time`, () => {
    const huge = Array.from({ length: celLimits.maxAstNodes }, (_, i) => `a${i}`).join(" + ");
    expect(() => compileCel(huge)).toThrow(expect.objectContaining({ stage: "parse" }));
  });

  it(`Given comprehensions nested deeper than ${maxComprehensionNesting} / should refuse it at parse time`, () => {
    expect(() => compileCel("a.all(x, a.all(y, a.all(z, x == y && y == z)))")).toThrow(/nested 3 deep/);
    // Chained comprehensions cost their sum, not their product: allowed.
    expect(compileCel("a.filter(x, x > 1).map(x, x * 2).all(y, y > 2)").type).toBe("dyn");
    expect(compileCel("a.all(x, x.b.exists(y, y > 1))").type).toBe("dyn");
  });

  it("Given an evaluation failure / should throw CelError at stage evaluate", () => {
    const p = compileCel("a.b == 1");
    expect(() => p.evaluate({ a: {} })).toThrow(expect.objectContaining({ stage: "evaluate" }));
  });
});

describe("comprehensionNesting", () => {
  it.each([
    ["1 + 2", 0],
    ["a.all(x, x)", 1],
    ["a.map(x, x).filter(y, y)", 1],
    ["a.all(x, x.b.exists(y, y))", 2],
    ["a.all(x, x.b.exists(y, y.c.map(z, z).size() > 0))", 3],
  ])("Given %s / should be %i", (expr, depth) => {
    expect(comprehensionNesting(compileCelAst(expr))).toBe(depth);
  });
});

function compileCelAst(expr: string): unknown {
  return new Environment({ unlistedVariablesAreDyn: true }).parse(expr).ast;
}

describe("regular expressions", () => {
  it.each([["^[a-z0-9-]+$"], ["^v(\\d+)\\.(\\d+)$"], ["(ab|cd)+"], ["^(feat|fix)(\\(.+\\))?: "], ["[(]+[)]*"]])(
    "Given the linear pattern %j / should accept it",
    (pattern) => {
      expect(unsafeRegex(pattern)).toBeUndefined();
      expect(compileCel(`s.matches(${JSON.stringify(pattern)})`).evaluate({ s: "feat: x" })).toBeTypeOf("boolean");
    },
  );

  it.each([
    ["(a+)+$", "repeated group"],
    ["(a*)*b", "repeated group"],
    ["((ab)*c)+", "repeated group"],
    ["(x+x+)+y", "repeated group"],
    ["(a){2,}(b+){3}", "repeated group"],
    ["(a)\\1", "backreference"],
    ["a".repeat(300), "longer than"],
  ])("Given the pattern %j / should refuse it at parse time (%s)", (pattern, why) => {
    expect(unsafeRegex(pattern)).toContain(why);
    expect(() => compileCel(`s.matches(${JSON.stringify(pattern)})`)).toThrow(
      expect.objectContaining({ stage: "parse" }),
    );
  });

  it("Given a pattern that is not a literal / should refuse it, in both call forms", () => {
    expect(() => compileCel("s.matches(p)")).toThrow(/literal pattern/);
    expect(() => compileCel("matches(s, p)")).toThrow(/literal pattern/);
  });
});
