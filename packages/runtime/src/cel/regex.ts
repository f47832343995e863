// Regular expressions in CEL's `matches`, checked before they run: JavaScript's RegExp backtracks, so a pattern with
// a backreference or a repeated group that itself repeats (`(a+)+`) can take exponential time on a crafted input.
// What is left (classes, alternations, single repetitions) backtracks at most polynomially in the input.

/** Longest pattern `matches` accepts. */
export const maxPatternLength = 256;

interface Scan {
  /** Per open group: whether a repetition occurred inside it. */
  groups: boolean[];
  inClass: boolean;
}

const isRepeat = (c: string | undefined) => c === "*" || c === "+" || c === "{";

/** Backreferences, and repeated groups that contain a repetition, in a JavaScript regular expression. */
export function unsafeRegex(pattern: string): string | undefined {
  if (pattern.length > maxPatternLength) return `pattern longer than ${maxPatternLength} characters`;
  const refuse = (what: string) => `pattern '${pattern}' has ${what} (Capstan: it could backtrack without bound)`;
  const scan: Scan = { groups: [], inClass: false };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "\\") {
      if (/[1-9k]/.test(pattern[i + 1] ?? "")) return refuse("a backreference");
      i++;
    } else if (scan.inClass) {
      scan.inClass = c !== "]";
    } else if (closeGroup(scan, c, pattern[i + 1])) {
      return refuse("a repeated group that itself repeats");
    }
  }
  return undefined;
}

/** One character outside a class and an escape; true when it closes a repeated group holding a repetition. */
function closeGroup(scan: Scan, c: string, next: string | undefined): boolean {
  const { groups } = scan;
  const markParent = () => {
    if (groups.length) groups[groups.length - 1] = true;
  };
  if (c === "[") scan.inClass = true;
  else if (c === "(") groups.push(false);
  else if (c === ")") {
    const inner = groups.pop() ?? false;
    if (inner && isRepeat(next)) return true;
    if (inner || isRepeat(next)) markParent();
  } else if (isRepeat(c)) markParent();
  return false;
}
