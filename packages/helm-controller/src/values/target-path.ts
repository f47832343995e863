// valuesFrom[].targetPath: the value is set at a path written in Helm's --set syntax (`a.b[0].c`, `\.` for a literal
// dot), as Flux does with strvals.ParseInto. Without `literal` the value is typed as --set types it (true, false,
// null, integers); with `literal` it stays a string (--set-literal).
import { isPlainObject, type Values } from "./merge.js";

export class TargetPathError extends Error {}

type Segment = { key: string } | { index: number };

const maxIndex = 65536;

export function parseTargetPath(path: string): Segment[] {
  const segments: Segment[] = [];
  let key = "";
  let pendingKey = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === "\\" && i + 1 < path.length) {
      key += path[++i];
      pendingKey = true;
    } else if (c === ".") {
      if (pendingKey || key) segments.push({ key });
      else if (segments.length === 0 || !("index" in segments[segments.length - 1]!)) {
        throw new TargetPathError(`invalid targetPath '${path}': empty key`);
      }
      key = "";
      pendingKey = false;
    } else if (c === "[") {
      if (pendingKey || key) segments.push({ key });
      key = "";
      pendingKey = false;
      const end = path.indexOf("]", i);
      const digits = end < 0 ? "" : path.slice(i + 1, end);
      if (!/^[0-9]{1,5}$/.test(digits) || Number(digits) > maxIndex) {
        throw new TargetPathError(`invalid targetPath '${path}': bad index`);
      }
      segments.push({ index: Number(digits) });
      i = end;
    } else {
      key += c;
      pendingKey = true;
    }
  }
  if (pendingKey || key) segments.push({ key });
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

/** Sets `value` at `path` in `values` (in place), creating maps and lists on the way. */
export function setAtPath(values: Values, path: string, value: unknown): void {
  const segments = parseTargetPath(path);
  let cur: unknown = values;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    const next = segments[i + 1];
    const fresh = () => (next && "index" in next ? [] : {});
    if ("key" in seg) {
      if (!isPlainObject(cur)) throw new TargetPathError(`invalid targetPath '${path}': not a map at '${seg.key}'`);
      if (last) cur[seg.key] = value;
      else {
        const child = cur[seg.key];
        if (
          !(isPlainObject(child) || Array.isArray(child)) ||
          Array.isArray(child) !== Boolean(next && "index" in next)
        ) {
          cur[seg.key] = fresh();
        }
        cur = cur[seg.key];
      }
    } else {
      if (!Array.isArray(cur)) throw new TargetPathError(`invalid targetPath '${path}': not a list`);
      while (cur.length <= seg.index) cur.push(null);
      if (last) cur[seg.index] = value;
      else {
        const child = cur[seg.index];
        if (!(isPlainObject(child) || Array.isArray(child))) cur[seg.index] = fresh();
        cur = cur[seg.index];
      }
    }
  }
}
