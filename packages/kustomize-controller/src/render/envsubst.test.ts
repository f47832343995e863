// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax itself
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { envsubst, SubstitutionError, VariableNotSetError } from "./envsubst.js";

const lookupIn = (vars: Record<string, string>) => (name: string) =>
  Object.hasOwn(vars, name) ? vars[name] : undefined;

describe("envsubst", () => {
  it.each([
    ["text only", {}, "abcdEFGH28ij", "abcdEFGH28ij"],
    ["plain", { v: "x" }, "a ${v} b", "a x b"],
    ["bare $var stays", { var01: "x" }, "$var01", "$var01"],
    ["length", { var01: "abcdEFGH28ij" }, "${#var01}", "12"],
    ["uppercase first", { var01: "abcdEFGH28ij" }, "${var01^}", "AbcdEFGH28ij"],
    ["uppercase", { var01: "abcdEFGH28ij" }, "${var01^^}", "ABCDEFGH28IJ"],
    ["lowercase first", { var01: "ABCDEFGH28IJ" }, "${var01,}", "aBCDEFGH28IJ"],
    ["lowercase", { var01: "ABCDEFGH28IJ" }, "${var01,,}", "abcdefgh28ij"],
    ["substring", { p: "/home/bozo/ideas/thoughts.for.today" }, "${p:11}", "ideas/thoughts.for.today"],
    ["substring+length", { p: "/home/bozo/ideas/thoughts.for.today" }, "${p:11:5}", "ideas"],
    ["default not used", { var: "abc" }, "${var=xyz}", "abc"],
    ["default used", {}, "${var=xyz}", "xyz"],
    ["nested default", { default_var: "foo" }, "something ${var=${default_var}}", "something foo"],
    [
      "default with suffix",
      { default_var: "foo1" },
      "foo: ${var=prefix${default_var}-suffix}",
      "foo: prefixfoo1-suffix",
    ],
    [":= default", {}, "${var:=xyz}", "xyz"],
    [":- default", {}, "${var:-xyz}", "xyz"],
    ["default on empty value", { var: "" }, "${var:=xyz}", "xyz"],
    ["replace suffix", { s: "abcABC123ABCabc" }, "${s/%abc/XYZ}", "abcABC123ABCXYZ"],
    ["replace prefix", { s: "abcABC123ABCabc" }, "${s/#abc/XYZ}", "XYZABC123ABCabc"],
    ["prepend", { s: "somevalue" }, "${s/#/prefix-}", "prefix-somevalue"],
    ["append", { s: "somevalue" }, "${s/%/-suffix}", "somevalue-suffix"],
    ["replace all", { s: "abcABC123ABCabc" }, "${s//abc/xyz}", "xyzABC123ABCxyz"],
    ["replace first", { s: "abcABC123ABCabc" }, "${s/abc/xyz}", "xyzABC123ABCabc"],
    ["delete shortest prefix", { f: "bash.string.txt" }, "${f#*.}", "string.txt"],
    ["delete shortest prefix, slash", { f: "/path/to/file" }, "${f#*/}", "path/to/file"],
    ["delete longest prefix", { f: "bash.string.txt" }, "${f##*.}", "txt"],
    ["delete longest prefix, path", { f: "path/to/file" }, "${f##*/}", "file"],
    ["delete shortest suffix", { f: "bash.string.txt" }, "${f%.*}", "bash.string"],
    ["delete longest suffix", { f: "bash.string.txt" }, "${f%%.*}", "bash"],
    ["nested operator", { var01: "abcdEFGH28ij" }, "${var=${var01^^}}", "ABCDEFGH28IJ"],
    ["escaped", { var01: "abcdEFGH28ij" }, "$${var01}", "${var01}"],
    [
      "escapes mixed",
      { var01: "abcdEFGH28ij" },
      "some text ${var01}$${var$${var01}$var01${var01}",
      "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
    ],
    [
      "escape keeps inner expansion",
      { default_var: "foo" },
      "something $${var=${default_var}}",
      "something ${var=foo}",
    ],
    ["escaped slash in pattern", { s: "foo/bar" }, "${s/\\//-}", "foo-bar"],
    ["escaped slash, all", { s: "foo/bar/baz" }, "${s//\\//-}", "foo-bar-baz"],
    ["backslash outside expansion", { d: "foo" }, "\\\\something ${var=${d}}", "\\\\something foo"],
    ["replace with blank", { s: "foo.bar" }, "${s/./}", "foobar"],
    ["missing, not strict", {}, "[${missing}]", "[]"],
  ])("Given %s, should expand as Flux does", (_name, vars, input, output) => {
    expect(envsubst(input, lookupIn(vars))).toBe(output);
  });

  it.each([
    "${missing}",
    "${#missing}",
    "${missing^^}",
    "${missing,}",
    "${missing:0:10}",
    "${missing//a/b}",
    "${missing#p}",
    "${missing%%p}",
  ])("Given strict mode and %s, should fail naming the variable", (input) => {
    const err = (() => {
      try {
        envsubst(input, lookupIn({}), { strict: true });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(VariableNotSetError);
    expect((err as VariableNotSetError).variable).toBe("missing");
  });

  it.each([
    ["${missing:-fallback}", "fallback"],
    ["${missing:=assigned}", "assigned"],
    ["${missing=assigned}", "assigned"],
    ["${empty}", ""],
  ])("Given strict mode and %s, should not fail", (input, output) => {
    expect(envsubst(input, lookupIn({ empty: "" }), { strict: true })).toBe(output);
  });

  it.each(["${unclosed", "${}", "${a b}", "${v:=x"])(
    "Given malformed %s, should throw a SubstitutionError",
    (input) => {
      expect(() => envsubst(input, lookupIn({ v: "1" }))).toThrow(SubstitutionError);
    },
  );

  it("Given any text without `$`, should return it unchanged", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes("$")),
        (s) => envsubst(s, () => "x") === s,
      ),
    );
  });

  it("Given arbitrary input, should either expand or throw a SubstitutionError", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("$", "{", "}", "a", ":", "=", "/", "#", "%", "\\", "^", ",") }),
        (s) => {
          try {
            envsubst(s, (n) => (n === "a" ? "aa" : undefined), { strict: true });
          } catch (err) {
            return err instanceof SubstitutionError;
          }
          return true;
        },
      ),
    );
  });
});
