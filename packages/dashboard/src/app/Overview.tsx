// The overview: counts per kind and state, what needs attention first (stalled, failing) with reason and message, and
// recent activity from Events.
import { useEffect } from "preact/hooks";
import { byStateThenKey, compareText } from "../shared/order.js";
import type { EventView, State, StateCounts, Summary } from "../shared/types.js";
import { summaryKinds } from "../shared/types.js";
import { appHref, isSourceKind, sourceHref } from "./route.js";
import { StateBadge, stateLabel, Table, Time } from "./ui.js";

const shownStates: State[] = ["ready", "failing", "stalled", "reconciling", "suspended", "unknown"];

function hrefOf(s: { kind: string; namespace: string; name: string }): string | undefined {
  if (s.kind === "Kustomization" || s.kind === "HelmRelease") return appHref(s.namespace, s.name, s.kind);
  if (isSourceKind(s.kind)) return sourceHref(s.namespace, s.name, s.kind);
  return undefined;
}

/**
 * `counts` are the model's (the server's until the whole snapshot is in): the counts table and the failing objects
 * are right from the snapshot's first message, before the rest of the objects are read.
 */
export function Overview({ items, events, counts }: { items: Summary[]; events: EventView[]; counts: StateCounts }) {
  // For the benchmark (and the browser's performance panel): when the overview first showed objects.
  const shown = items.length > 0;
  useEffect(() => {
    if (shown) performance.mark("capstan:overview", { detail: items.length });
  }, [shown]);
  const countOf = (k: (typeof summaryKinds)[number], s: State) => counts[k]?.[s] ?? 0;
  const kinds = summaryKinds.filter((k) => shownStates.some((s) => countOf(k, s) > 0));
  const attention = items
    .filter((s) => s.state === "failing" || s.state === "stalled")
    .sort(byStateThenKey)
    .slice(0, 100);
  const controllers = items.filter((s) => s.kind === "Deployment").sort((a, b) => compareText(a.key, b.key));
  const recent = [...events].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, 25);
  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="counts-h">
        <h2 id="counts-h">Objects by state</h2>
        {kinds.length === 0 ? (
          <p>No toolkit objects you may see yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="counts">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  {shownStates.map((s) => (
                    <th scope="col" key={s}>
                      {stateLabel[s]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {kinds.map((k) => (
                  <tr key={k} data-kind={k}>
                    <th scope="row">{k}</th>
                    {shownStates.map((s) => (
                      <td key={s} data-state={s} class={countOf(k, s) > 0 ? `count-${s}` : "muted"}>
                        {countOf(k, s)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="attention-h">
        <h2 id="attention-h">Needs attention</h2>
        {attention.length === 0 ? (
          <p class="ok-note">Nothing is failing.</p>
        ) : (
          <ul class="attention" aria-label="Failing and stalled objects">
            {attention.map((s) => {
              const href = hrefOf(s);
              return (
                <li key={s.key} class={`card state-border-${s.state}`}>
                  <div class="card-head">
                    <StateBadge state={s.state} /> <span class="kind">{s.kind}</span>{" "}
                    {href ? <a href={href}>{`${s.namespace}/${s.name}`}</a> : <span>{`${s.namespace}/${s.name}`}</span>}
                  </div>
                  <div class="reason">{s.reason}</div>
                  <p class="message">{s.message}</p>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section aria-labelledby="controllers-h">
        <h2 id="controllers-h">Controllers</h2>
        {controllers.length === 0 ? (
          <p class="muted">No controller Deployments (labelled app.kubernetes.io/part-of=flux) you may see.</p>
        ) : (
          <Table
            label="Controllers"
            columns={["Deployment", "State", "Replicas", "Image"]}
            rows={controllers}
            row={(c) => (
              <tr key={c.key} data-key={c.key}>
                <th scope="row">{`${c.namespace}/${c.name}`}</th>
                <td>
                  <StateBadge state={c.state} />
                </td>
                <td>{c.message}</td>
                <td>
                  <code class="wrap">{c.revision}</code>
                </td>
              </tr>
            )}
          />
        )}
      </section>
      <section aria-labelledby="events-h">
        <h2 id="events-h">Recent activity</h2>
        <EventList events={recent} showObject />
      </section>
    </>
  );
}

export function EventList({ events, showObject }: { events: EventView[]; showObject?: boolean }) {
  if (events.length === 0) return <p class="muted">No Events.</p>;
  return (
    <ol class="events" aria-label="Events">
      {events.map((e) => {
        const href = hrefOf(e.involved);
        return (
          <li key={e.key} class={e.type === "Warning" ? "event warning" : "event"}>
            <Time value={e.time} /> <span class={`badge ev-${e.type}`}>{e.type}</span> <strong>{e.reason}</strong>
            {showObject ? (
              <>
                {" "}
                <span class="kind">{e.involved.kind}</span>{" "}
                {href ? (
                  <a href={href}>{`${e.involved.namespace}/${e.involved.name}`}</a>
                ) : (
                  `${e.involved.namespace}/${e.involved.name}`
                )}
              </>
            ) : null}
            {e.count > 1 ? <span class="muted"> ×{e.count}</span> : null}
            <div class="message">{e.message}</div>
          </li>
        );
      })}
    </ol>
  );
}
