// Go's time.ParseDuration format ("1m30s", "750ms", "1h"), which Flux's flags and CRD fields (spec.interval) use.
const units: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parses a Go duration into milliseconds; throws on anything else (including a bare number other than 0). */
export function parseDuration(text: string): number {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < s.length) {
    const m = part.exec(s);
    if (!m)
      throw new Error(`invalid duration ${JSON.stringify(text)}: expected a number and a unit (ns, us, ms, s, m, h)`);
    total += Number(m[1]) * (units[m[2] as string] ?? Number.NaN);
  }
  return sign * total;
}

/**
 * Formats milliseconds the way Go prints a time.Duration ("1m30s", "750ms", "1.234567s", "0s"), to the microsecond
 * (Go prints nanoseconds; a measured time here has microseconds at best). Whole microseconds are computed in
 * integers, so a measured 152.3487 ms reads "152.349ms", never a float's "152.34870000000001ms".
 */
export function formatDuration(ms: number): string {
  const us = Math.round(ms * 1000);
  if (us === 0) return "0s";
  const sign = us < 0 ? "-" : "";
  let rest = Math.abs(us);
  if (rest < 1000) return `${sign}${rest}µs`;
  if (rest < 1_000_000) return `${sign}${decimal(rest, 1000)}ms`;
  const h = Math.floor(rest / 3_600_000_000);
  rest -= h * 3_600_000_000;
  const m = Math.floor(rest / 60_000_000);
  rest -= m * 60_000_000;
  return `${sign}${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${decimal(rest, 1_000_000)}s`;
}

/** n / unit in decimal, without trailing zeros: decimal(1500, 1000) is "1.5". */
function decimal(n: number, unit: number): string {
  const whole = Math.floor(n / unit);
  const fraction = n % unit;
  if (fraction === 0) return String(whole);
  const digits = String(unit).length - 1;
  return `${whole}.${String(fraction).padStart(digits, "0").replace(/0+$/, "")}`;
}
