// valuesFrom[].targetPath: the value is set at a path written in Helm's --set syntax (`a.b[0].c`, `\.` for a literal
// dot), as Flux does with strvals.ParseInto. Without `literal` the value is typed as --set types it (true, false,
// null, integers); with `literal` it stays a string (--set-literal).
import { isPlainObject, type Values } from "./merge.js";

export class TargetPathError extends Error {}

type Segment = { key: string } | { index: number };

const maxIndex = 65536;

/** `[n]` at `i` (the index of "["): the index and where it ends. */
function parseIndex(path: string, i: number): { index: number; end: number } {
  const end = path.indexOf("]", i);
  const digits = end < 0 ? "" : path.slice(i + 1, end);
  if (!/^[0-9]{1,5}$/.test(digits) || Number(digits) > maxIndex) {
    throw new TargetPathError(`invalid targetPath '${path}': bad index`);
  }
  return { index: Number(digits), end };
}

export function parseTargetPath(path: string): Segment[] {
  const segments: Segment[] = [];
  // The key being read; undefined before its first character (an escaped or empty-looking key is still a key).
  let key: string | undefined;
  const endKey = () => {
    if (key !== undefined) segments.push({ key });
    key = undefined;
  };
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === "\\" && i + 1 < path.length) {
      key = (key ?? "") + path[++i];
    } else if (c === ".") {
      const afterIndex = key === undefined && segments.length > 0 && "index" in segments[segments.length - 1]!;
      if (key === undefined && !afterIndex) throw new TargetPathError(`invalid targetPath '${path}': empty key`);
      endKey();
    } else if (c === "[") {
      endKey();
      const { index, end } = parseIndex(path, i);
      segments.push({ index });
      i = end;
    } else {
      key = (key ?? "") + c;
    }
  }
  endKey();
  if (segments.length === 0) throw new TargetPathError(`invalid targetPath '${path}': empty`);
  return segments;
}

/** --set's typing of a scalar: true/false, null, integers (no floats, as strvals); everything else a string. */
export function typedValue(text: string): unknown {
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  return text;
}

type Container = Values | unknown[];

const isContainer = (v: unknown): v is Container => isPlainObject(v) || Array.isArray(v);

/** The child at `seg` of `cur`, made (a list when `next` is an index, else a map) when missing or of the other kind. */
function child(cur: Container, seg: Segment, next: Segment, path: string): Container {
  const wantList = "index" in next;
  const read = (): unknown => ("key" in seg ? (cur as Values)[seg.key] : (cur as unknown[])[seg.index]);
  const existing = read();
  if (isContainer(existing) && Array.isArray(existing) === wantList) return existing;
  const fresh: Container = wantList ? [] : {};
  assign(cur, seg, fresh, path);
  return fresh;
}

function assign(cur: Container, seg: Segment, value: unknown, path: string): void {
  if ("key" in seg) {
    if (!isPlainObject(cur)) throw new TargetPathError(`invalid targetPath '${path}': not a map at '${seg.key}'`);
    cur[seg.key] = value;
    return;
  }
  if (!Array.isArray(cur)) throw new TargetPathError(`invalid targetPath '${path}': not a list`);
  while (cur.length <= seg.index) cur.push(null);
  cur[seg.index] = value;
}

/** Sets `value` at `path` in `values` (in place), creating maps and lists on the way. */
export function setAtPath(values: Values, path: string, value: unknown): void {
  const segments = parseTargetPath(path);
  let cur: Container = values;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    if ("key" in seg ? !isPlainObject(cur) : !Array.isArray(cur)) {
      throw new TargetPathError(`invalid targetPath '${path}': ${"key" in seg ? "not a map" : "not a list"}`);
    }
    cur = child(cur, seg, segments[i + 1]!, path);
  }
  assign(cur, segments[segments.length - 1]!, value, path);
}
