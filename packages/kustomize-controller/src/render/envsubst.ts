// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax itself
// Shell-style variable expansion with the semantics of Flux's envsubst (a fork of drone/envsubst): only the braced
// form `${...}` expands (a bare `$var` stays as written), `$$` escapes a dollar, defaults may nest expansions, and in
// strict mode a variable that is unset (not merely empty) is an error unless a default operator handles it.

export type Lookup = (name: string) => string | undefined;

export class SubstitutionError extends Error {
  override name = "SubstitutionError";
}

/** Raised in strict mode when `${name}` has no value and no default; `variable` names what was missing. */
export class VariableNotSetError extends SubstitutionError {
  override name = "VariableNotSetError";
  constructor(readonly variable: string) {
    super(`variable not set (strict mode): "${variable}"`);
  }
}

interface Options {
  strict?: boolean;
}

/** Expands every `${...}` in text. Throws SubstitutionError on malformed input or (strict) a missing variable. */
export function envsubst(text: string, lookup: Lookup, options: Options = {}): string {
  const parser = new Parser(text, lookup, options.strict === true);
  return parser.text();
}

const identChar = /[\p{L}\p{N}_]/u;
const defaultOps = new Set(["-", "+", "=", "?", ":-", ":+", ":=", ":?"]);

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly lookup: Lookup,
    private readonly strict: boolean,
  ) {}

  /** Top level: literal text, `$$` escapes and `${...}` expansions until the end. */
  text(): string {
    let out = "";
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (ch === "$" && this.src[this.pos + 1] === "$") {
        // `$$` → `$`, and what follows is plain text (so `$${x}` renders `${x}`).
        out += "$";
        this.pos += 2;
        if (this.src[this.pos] === "{") {
          out += "{";
          this.pos++;
        }
        continue;
      }
      if (ch === "$" && this.src[this.pos + 1] === "{") {
        this.pos += 2;
        out += this.expansion();
        continue;
      }
      out += ch;
      this.pos++;
    }
    return out;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private fail(what: string): never {
    throw new SubstitutionError(`${what} at offset ${this.pos}`);
  }

  private ident(): string {
    const start = this.pos;
    while (this.pos < this.src.length && identChar.test(this.src[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail("unable to parse variable name");
    return this.src.slice(start, this.pos);
  }

  private closeBrace(): void {
    if (this.peek() !== "}") this.fail(this.pos >= this.src.length ? "missing closing brace" : "bad substitution");
    this.pos++;
  }

  /**
   * An argument: text up to one of `stops` (or `}`), where `${...}` nests and, inside arguments, `\/` and `\\`
   * escape and `$$` escapes a dollar.
   */
  private arg(stops: string): string {
    let out = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail("missing closing brace");
      if (ch === "}" || stops.includes(ch)) return out;
      if (ch === "\\" && (this.peek(1) === "/" || this.peek(1) === "\\")) {
        out += this.peek(1);
        this.pos += 2;
        continue;
      }
      if (ch === "$" && this.peek(1) === "$") {
        out += "$";
        this.pos += 2;
        continue;
      }
      if (ch === "$" && this.peek(1) === "{") {
        this.pos += 2;
        out += this.expansion();
        continue;
      }
      out += ch;
      this.pos++;
    }
  }

  /** After `${`: parses one expansion through its closing brace and returns its value. */
  private expansion(): string {
    if (this.peek() === "#") {
      this.pos++;
      const name = this.ident();
      this.closeBrace();
      return String(Buffer.byteLength(this.value(name, "#"), "utf8"));
    }
    const name = this.ident();
    const ch = this.peek();
    switch (ch) {
      case "}":
        this.pos++;
        return this.value(name, "");
      case ":": {
        const next = this.peek(1);
        if (next === "=" || next === "-" || next === "?" || next === "+") {
          this.pos += 2;
          return this.withDefault(name, `:${next}`);
        }
        this.pos++;
        return this.substring(name);
      }
      case "=":
        this.pos++;
        return this.withDefault(name, "=");
      case ",":
      case "^":
        return this.casing(name, ch);
      case "/":
        return this.replace(name);
      case "#":
      case "%":
        return this.remove(name, ch);
      default:
        return this.fail("bad substitution");
    }
  }

  private value(name: string, op: string): string {
    const v = this.lookup(name);
    if (v === undefined && this.strict && !defaultOps.has(op)) throw new VariableNotSetError(name);
    return v ?? "";
  }

  private withDefault(name: string, op: string): string {
    const fallback = this.arg("");
    this.closeBrace();
    const v = this.value(name, op);
    return v === "" ? fallback : v;
  }

  private substring(name: string): string {
    const posArg = this.arg(":");
    let lenArg: string | undefined;
    if (this.peek() === ":") {
      this.pos++;
      lenArg = this.arg("");
    }
    this.closeBrace();
    return substr(this.value(name, ":"), posArg, lenArg);
  }

  private casing(name: string, first: string): string {
    let op = first;
    this.pos++;
    if (this.peek() === first) {
      op += first;
      this.pos++;
    }
    this.closeBrace();
    const v = this.value(name, op);
    switch (op) {
      case ",":
        return v.slice(0, 1).toLowerCase() + v.slice(1);
      case ",,":
        return v.toLowerCase();
      case "^":
        return v.slice(0, 1).toUpperCase() + v.slice(1);
      default:
        return v.toUpperCase();
    }
  }

  private replace(name: string): string {
    this.pos++;
    let op = "/";
    const next = this.peek();
    if (next === "/" || next === "#" || next === "%") {
      op += next;
      this.pos++;
    }
    const pattern = this.peek() === "/" ? "" : this.arg("/");
    if (this.peek() !== "/") {
      // `${v/pat}` without a replacement deletes the match, like bash.
      this.closeBrace();
      return replaceWith(op, this.value(name, op), pattern, "");
    }
    this.pos++;
    const replacement = this.arg("");
    this.closeBrace();
    return replaceWith(op, this.value(name, op), pattern, replacement);
  }

  private remove(name: string, first: string): string {
    let op = first;
    this.pos++;
    if (this.peek() === first) {
      op += first;
      this.pos++;
    }
    const pattern = this.arg("");
    this.closeBrace();
    const v = this.value(name, op);
    const re = globToRegExp(pattern);
    if (op === "#") return trimPrefix(v, re, "shortest");
    if (op === "##") return trimPrefix(v, re, "longest");
    if (op === "%") return trimSuffix(v, re, "shortest");
    return trimSuffix(v, re, "longest");
  }
}

function replaceWith(op: string, v: string, pattern: string, replacement: string): string {
  switch (op) {
    case "//":
      return pattern === "" ? v : v.split(pattern).join(replacement);
    case "/#":
      return v.startsWith(pattern) ? replacement + v.slice(pattern.length) : v;
    case "/%":
      return v.endsWith(pattern) ? v.slice(0, v.length - pattern.length) + replacement : v;
    default: {
      const i = v.indexOf(pattern);
      return pattern === "" || i < 0 ? v : v.slice(0, i) + replacement + v.slice(i + pattern.length);
    }
  }
}

function substr(v: string, posArg: string, lenArg: string | undefined): string {
  let pos = Number.parseInt(posArg.trim(), 10);
  if (Number.isNaN(pos)) return v;
  if (pos < 0) pos = Math.max(0, v.length + pos);
  if (lenArg === undefined) return pos < v.length ? v.slice(pos) : "";
  const length = Number.parseInt(lenArg.trim(), 10);
  if (Number.isNaN(length)) return v;
  if (length < 0) {
    const end = v.length + length;
    return end < pos ? "" : v.slice(pos, end);
  }
  return v.slice(pos, pos + length);
}

/** A bash-style pattern as an anchored RegExp; as in Flux's envsubst, `*` and `?` also match `/`. */
function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) return /(?!)/;
      const body = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
      re += `[${body}]`;
      i = end;
    } else if (ch === "\\" && i + 1 < pattern.length) {
      re += escapeRegExp(pattern[++i]!);
    } else re += escapeRegExp(ch);
  }
  return new RegExp(`^${re}$`, "s");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function trimPrefix(v: string, re: RegExp, mode: "shortest" | "longest"): string {
  if (mode === "shortest") {
    for (let i = 1; i <= v.length; i++) if (re.test(v.slice(0, i))) return v.slice(i);
    return v;
  }
  for (let i = v.length; i >= 1; i--) if (re.test(v.slice(0, i))) return v.slice(i);
  return v;
}

function trimSuffix(v: string, re: RegExp, mode: "shortest" | "longest"): string {
  if (mode === "shortest") {
    for (let i = v.length - 1; i >= 0; i--) if (re.test(v.slice(i))) return v.slice(0, i);
    return v;
  }
  for (let i = 0; i < v.length; i++) if (re.test(v.slice(i))) return v.slice(0, i);
  return v;
}
