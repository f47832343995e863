import { FlagError, type FlagSpecs, type FlagValues, parseFlags } from "./flags.js";

/** For a controller's main.ts: parsed flags, or the usage on stdout and exit 0 for --help, or exit 2 on a bad flag. */
export function parseFlagsOrExit<S extends FlagSpecs>(
  program: string,
  specs: S,
  argv: readonly string[],
): FlagValues<S> {
  try {
    const parsed = parseFlags(program, specs, argv);
    if (parsed.help) {
      process.stdout.write(parsed.usage.endsWith("\n") ? parsed.usage : `${parsed.usage}\n`);
      process.exit(0);
    }
    return parsed.values;
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

/** For a controller's main.ts: runs `main` and exits with its code, or with 1 and the error on stderr. */
export function runMain(program: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${program}: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
