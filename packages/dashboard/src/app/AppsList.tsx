// Every Kustomization and HelmRelease: filter by namespace, state, source and text, sort by any column, favourites kept in this
// browser. The rows are windowed (only those in view are in the DOM), so 5,000 stay smooth.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { compareText, stateRank } from "../shared/order.js";
import type { State, Summary } from "../shared/types.js";
import { applicationKinds, states } from "../shared/types.js";
import { appHref } from "./route.js";
import { Revision, StateBadge, stateLabel, Time } from "./ui.js";

type SortKey = "name" | "namespace" | "state" | "revision" | "since";
const columns: { key: SortKey; label: string }[] = [
  { key: "name", label: "Name" },
  { key: "namespace", label: "Namespace" },
  { key: "state", label: "State" },
  { key: "revision", label: "Revision" },
  { key: "since", label: "Since" },
];
const rowHeight = 56;
const overscan = 8;
const favouritesKey = "capstan.favourites";

function loadFavourites(): Set<string> {
  try {
    const v = JSON.parse(localStorage.getItem(favouritesKey) ?? "[]") as unknown;
    return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  } catch {
    return new Set();
  }
}

function compare(a: Summary, b: Summary, key: SortKey): number {
  switch (key) {
    case "state":
      return stateRank[a.state] - stateRank[b.state];
    case "namespace":
      return compareText(a.namespace, b.namespace);
    case "revision":
      return compareText(a.revision, b.revision);
    case "since":
      return a.since < b.since ? 1 : a.since > b.since ? -1 : 0;
    default:
      return compareText(a.name, b.name);
  }
}

/**
 * `total` is how many applications there are (from the counts) while the snapshot's later parts are still being read
 * (`complete` false): the list shows the first ones in its default order meanwhile, and says it is loading.
 */
export function AppsList({ items, complete, total }: { items: Summary[]; complete: boolean; total: number }) {
  const apps = useMemo(() => items.filter((s) => applicationKinds.includes(s.kind)), [items]);
  const [namespace, setNamespace] = useState("");
  const [state, setState] = useState<State | "">("");
  const [source, setSource] = useState("");
  const [text, setText] = useState("");
  const [favOnly, setFavOnly] = useState(false);
  const [favourites, setFavourites] = useState(loadFavourites);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: "state", dir: 1 });
  const namespaces = useMemo(() => [...new Set(apps.map((a) => a.namespace))].sort(), [apps]);
  const sources = useMemo(
    () => [...new Set(apps.flatMap((a) => (a.source ? [`${a.source.namespace}/${a.source.name}`] : [])))].sort(),
    [apps],
  );

  const rows = useMemo(() => {
    const q = text.trim().toLowerCase();
    const out = apps.filter(
      (a) =>
        (!namespace || a.namespace === namespace) &&
        (!state || a.state === state) &&
        (!source || (a.source && `${a.source.namespace}/${a.source.name}` === source)) &&
        (!favOnly || favourites.has(a.key)) &&
        (!q || `${a.namespace}/${a.name} ${a.message} ${a.reason} ${a.path}`.toLowerCase().includes(q)),
    );
    // The snapshot comes in the default order (state, then key), so this sort of nearly sorted rows is about linear.
    out.sort((a, b) => sort.dir * compare(a, b, sort.key) || compareText(a.key, b.key));
    return out;
  }, [apps, namespace, state, source, text, favOnly, favourites, sort]);

  // For the benchmark (and the browser's performance panel): when the list first showed rows.
  const shown = rows.length > 0;
  useEffect(() => {
    if (shown) performance.mark("capstan:list", { detail: apps.length });
  }, [shown]);

  const toggleFavourite = (key: string) => {
    const next = new Set(favourites);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    localStorage.setItem(favouritesKey, JSON.stringify([...next]));
    setFavourites(next);
  };

  return (
    <>
      <h1>Applications</h1>
      <form class="filters" aria-label="Filter applications" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={text}
            placeholder="name, message…"
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <label>
          Namespace
          <select value={namespace} onChange={(e) => setNamespace(e.currentTarget.value)}>
            <option value="">All namespaces</option>
            {namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select value={state} onChange={(e) => setState(e.currentTarget.value as State | "")}>
            <option value="">All states</option>
            {states.map((s) => (
              <option key={s} value={s}>
                {stateLabel[s]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          <select value={source} onChange={(e) => setSource(e.currentTarget.value)}>
            <option value="">All sources</option>
            {sources.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={favOnly} onChange={(e) => setFavOnly(e.currentTarget.checked)} />
          Favourites only
        </label>
      </form>
      <p class="muted" aria-live="polite">
        {complete
          ? `${rows.length} of ${apps.length} applications`
          : `Loading: ${apps.length} of ${total} applications…`}
      </p>
      <VirtualTable
        rows={rows}
        total={complete || namespace || state || source || text || favOnly ? rows.length : Math.max(rows.length, total)}
        sort={sort}
        onSort={(key) => setSort((s) => ({ key, dir: s.key === key ? (s.dir === 1 ? -1 : 1) : 1 }))}
        favourites={favourites}
        onFavourite={toggleFavourite}
      />
    </>
  );
}

function VirtualTable(props: {
  rows: Summary[];
  /** Rows the scrollbar stands for: more than `rows` while the list is loading. */
  total: number;
  sort: { key: SortKey; dir: 1 | -1 };
  onSort(key: SortKey): void;
  favourites: Set<string>;
  onFavourite(key: string): void;
}) {
  const { rows, sort, total } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const visible = rows.slice(first, last);
  // Spacer rows stand for the rows out of view, so the scrollbar is true to the whole list.
  return (
    <div class="vscroll" ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <table class="vtable" aria-label="Applications" aria-rowcount={total + 1}>
        <colgroup>
          <col class="c-fav" />
          {columns.map((c) => (
            <col key={c.key} class={`c-${c.key}`} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" class="c-fav">
              <span class="sr-only">Favourite</span>
            </th>
            {columns.map((c) => (
              <th
                scope="col"
                key={c.key}
                class={`c-${c.key}`}
                aria-sort={sort.key === c.key ? (sort.dir === 1 ? "ascending" : "descending") : "none"}
              >
                <button type="button" class="sort" onClick={() => props.onSort(c.key)}>
                  {c.label}
                  <span aria-hidden="true">{sort.key === c.key ? (sort.dir === 1 ? " ▲" : " ▼") : ""}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 ? (
            <tr class="spacer-row" style={{ height: `${first * rowHeight}px` }}>
              <td colSpan={columns.length + 1} />
            </tr>
          ) : null}
          {visible.map((a, i) => (
            <AppRow
              key={a.key}
              app={a}
              index={first + i + 2}
              favourite={props.favourites.has(a.key)}
              onFavourite={props.onFavourite}
            />
          ))}
          {last < total ? (
            <tr class="spacer-row" style={{ height: `${(total - last) * rowHeight}px` }}>
              <td colSpan={columns.length + 1} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

function AppRow(props: { app: Summary; index: number; favourite: boolean; onFavourite(key: string): void }) {
  const { app: a, favourite } = props;
  return (
    <tr aria-rowindex={props.index} class={`vrow state-row-${a.state}`} data-key={a.key}>
      <td class="c-fav">
        <button
          type="button"
          class="star"
          aria-pressed={favourite}
          aria-label={`Favourite ${a.namespace}/${a.name}`}
          onClick={() => props.onFavourite(a.key)}
        >
          {favourite ? "★" : "☆"}
        </button>
      </td>
      <th scope="row" class="c-name">
        <a href={appHref(a.namespace, a.name, a.kind)}>{a.name}</a>
        {a.kind === "HelmRelease" ? <span class="badge kind-badge">HelmRelease</span> : null}
        <div class="sub muted" title={a.message}>
          {a.state === "ready" ? a.path || "./" : a.message}
        </div>
      </th>
      <td class="c-namespace">{a.namespace}</td>
      <td class="c-state">
        <StateBadge state={a.state} />
      </td>
      <td class="c-revision">
        <Revision value={a.revision} />
      </td>
      <td class="c-since">
        <Time value={a.since} />
      </td>
    </tr>
  );
}
