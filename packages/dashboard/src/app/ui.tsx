// Small shared pieces: state and health badges, times, revisions, tables.
import type { ComponentChildren } from "preact";
import type { Health, State } from "../shared/types.js";

export const stateLabel: Record<State, string> = {
  ready: "Ready",
  failing: "Failing",
  stalled: "Stalled",
  reconciling: "Reconciling",
  suspended: "Suspended",
  unknown: "Unknown",
};

export { stateRank } from "../shared/order.js";

export function StateBadge({ state }: { state: State }) {
  return <span class={`badge state-${state}`}>{stateLabel[state]}</span>;
}

export function HealthBadge({ health }: { health: Health }) {
  return <span class={`badge health-${health}`}>{health}</span>;
}

/** `main@sha1:0123456789abcdef…` → `main@0123456` (full text in the title). */
export function shortRevision(rev: string): string {
  const m = /^(?:(.*)@)?(sha1|sha256):([0-9a-f]+)$/.exec(rev);
  if (!m) return rev;
  return `${m[1] ? `${m[1]}@` : ""}${(m[3] ?? "").slice(0, 7)}`;
}

export function Revision({ value }: { value: string }) {
  if (!value) return <span class="muted">—</span>;
  return (
    <code class="revision" title={value}>
      {shortRevision(value)}
    </code>
  );
}

export function ago(time: string, now = Date.now()): string {
  const t = Date.parse(time);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function Time({ value }: { value: string }) {
  if (!value) return <span class="muted">—</span>;
  return (
    <time dateTime={value} title={value}>
      {ago(value)}
    </time>
  );
}

/** A labelled table in its scrolling wrapper: a header row of column names, one body row per item. */
export function Table<T>(props: { label: string; columns: string[]; rows: T[]; row: (item: T) => ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.rows.map(props.row)}</tbody>
      </table>
    </div>
  );
}
