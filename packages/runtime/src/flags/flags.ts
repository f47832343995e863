import { parseArgs } from "node:util";
import { formatDuration, parseDuration } from "./duration.js";

export type FlagSpec =
  | { type: "string"; default: string; description: string; choices?: readonly string[] }
  | { type: "boolean"; default: boolean; description: string }
  | { type: "number"; default: number; description: string; integer?: boolean; min?: number }
  /** A Go duration on the command line ("30s"); the value is in milliseconds. */
  | { type: "duration"; default: number; description: string };

export type FlagSpecs = Record<string, FlagSpec>;

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type ValueOf<F extends FlagSpec> = F extends { type: "boolean" }
  ? boolean
  : F extends { type: "string" }
    ? string
    : number;

/** Parsed flags, keyed by the camelCase of the flag name (--leader-elect → leaderElect). */
export type FlagValues<S extends FlagSpecs> = { [K in keyof S & string as Camel<K>]: ValueOf<S[K]> };

export class FlagError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FlagError";
  }
}

export type ParsedFlags<S extends FlagSpecs> = { help: true; usage: string } | { help: false; values: FlagValues<S> };

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Parses Go-style long flags (`--name value`, `--name=value`, `--bool`, `--bool=false`, `--no-bool`), as Flux's
 * charts pass them. Unknown flags and positionals are errors; `--help` returns the usage text instead.
 */
export function parseFlags<S extends FlagSpecs>(program: string, specs: S, argv: readonly string[]): ParsedFlags<S> {
  if ("help" in specs) throw new FlagError("flags: --help is reserved");
  // Booleans are read here, not by parseArgs: its negation (--no-x) would swallow flags whose own name starts with
  // "no-" (Flux's --no-cross-namespace-refs), and it has no --bool=false.
  const booleans: Record<string, boolean> = {};
  const rest: string[] = [];
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    const name = m?.[1] ?? "";
    if (m && specs[name]?.type === "boolean") {
      booleans[name] = parseBoolean(name, m[2]);
    } else if (m && m[2] === undefined && name.startsWith("no-") && specs[name.slice(3)]?.type === "boolean") {
      booleans[name.slice(3)] = false;
    } else {
      rest.push(arg);
    }
  }
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [name, spec] of Object.entries(specs)) if (spec.type !== "boolean") options[name] = { type: "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: false });
  } catch (cause) {
    throw new FlagError(`${program}: ${(cause as Error).message}; see --help`, { cause });
  }
  if (parsed.values.help === true) return { help: true, usage: formatUsage(program, specs) };
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = spec.type === "boolean" ? booleans[name] : parsed.values[name];
    values[camel(name)] = raw === undefined ? spec.default : convert(name, spec, raw);
  }
  return { help: false, values: values as FlagValues<S> };
}

function parseBoolean(name: string, value: string | undefined): boolean {
  const v = (value ?? "true").toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new FlagError(`invalid value ${JSON.stringify(value)} for --${name}: want true or false`);
}

function convert(name: string, spec: FlagSpec, raw: string | boolean | (string | boolean)[]): unknown {
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  switch (spec.type) {
    case "boolean":
      return value === true;
    case "string":
      if (spec.choices && !spec.choices.includes(String(value))) {
        throw new FlagError(
          `invalid value ${JSON.stringify(value)} for --${name}: want one of ${spec.choices.join(", ")}`,
        );
      }
      return String(value);
    case "number": {
      const n = Number(value);
      if (
        value === "" ||
        !Number.isFinite(n) ||
        (spec.integer && !Number.isInteger(n)) ||
        n < (spec.min ?? -Infinity)
      ) {
        const want = `${spec.integer ? "an integer" : "a number"}${spec.min !== undefined ? ` >= ${spec.min}` : ""}`;
        throw new FlagError(`invalid value ${JSON.stringify(value)} for --${name}: want ${want}`);
      }
      return n;
    }
    case "duration":
      try {
        return parseDuration(String(value));
      } catch (cause) {
        throw new FlagError(`invalid value ${JSON.stringify(value)} for --${name}: want a duration like 30s or 5m`, {
          cause,
        });
      }
  }
}

/** Usage text listing every flag with its default. */
export function formatUsage(program: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const kind = spec.type === "boolean" ? "" : ` ${spec.type}`;
    const def =
      spec.type === "duration"
        ? formatDuration(spec.default)
        : spec.type === "string"
          ? JSON.stringify(spec.default)
          : String(spec.default);
    const choices = spec.type === "string" && spec.choices ? ` (one of: ${spec.choices.join(", ")})` : "";
    return `  --${name}${kind}\n        ${spec.description}${choices} (default ${def})`;
  });
  return `${[`Usage of ${program}:`, ...rows, "  --help\n        Print this help and exit."].join("\n")}\n`;
}
