// One Kustomization, HelmRelease or source (GitRepository, OCIRepository, HelmRepository, HelmChart): state with reason and message, source and revisions, history, dependencies,
// the inventory grouped by kind with each object's live health, Events, and the actions. The page re-reads its detail
// whenever the stream says the object changed: no polling.
import { useEffect, useState } from "preact/hooks";
import type { Action, Detail, DriftView, EventView, InventoryItem, ReleaseView, Summary } from "../shared/types.js";
import { act, detail as fetchDetail, liveYaml } from "./api.js";
import { DepGraph } from "./DepGraph.js";
import { EventList } from "./Overview.js";
import { isSourceKind, type SourceKind, sourceHref } from "./route.js";
import { formatSize } from "./Sources.js";
import { HealthBadge, Revision, StateBadge, Table, Time } from "./ui.js";

interface Props {
  kind: "Kustomization" | "HelmRelease" | SourceKind;
  namespace: string;
  name: string;
  summary: Summary | undefined;
  liveEvents: EventView[];
  /** Everything listed, for the dependsOn graph. */
  items: Summary[];
}

export function AppPage({ kind, namespace, name, summary, liveEvents, items }: Props) {
  const [data, setData] = useState<Detail | undefined>();
  const [error, setError] = useState("");

  // summary changes identity on every pushed change of this object; a new or repeated Event may be a drift correction.
  const eventsSeen = liveEvents.map((e) => `${e.key}:${e.count}`).join();
  useEffect(() => {
    let cancelled = false;
    fetchDetail(kind, namespace, name)
      .then((d) => {
        if (!cancelled) {
          setData(d);
          setError("");
        }
      })
      .catch((e: Error) => {
        if (!cancelled) setError(e.message);
      });
    return () => {
      cancelled = true;
    };
  }, [kind, namespace, name, summary, eventsSeen]);

  const s = summary ?? data?.summary;
  const title = `${namespace}/${name}`;
  if (!s) {
    return (
      <>
        <h1>{title}</h1>
        <p role="alert">{error || "Loading…"}</p>
      </>
    );
  }
  const events = mergeEvents(liveEvents, data?.events ?? []);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={isSourceKind(kind) ? "#/sources" : "#/apps"}>{isSourceKind(kind) ? "Sources" : "Applications"}</a> /{" "}
        {title}
      </nav>
      <header class="page-head">
        <h1>
          <span class="kind">{kind}</span> {title}
        </h1>
        <StateBadge state={s.state} />
      </header>
      <section class="status-box" aria-label="Status">
        <div>
          <strong>{s.reason || "No status yet"}</strong>
        </div>
        <p class="message" data-testid="status-message">
          {s.message}
        </p>
        <p class="muted">
          Ready {s.ready} since <Time value={s.since} />
        </p>
      </section>
      <ActionBar kind={kind} namespace={namespace} name={name} suspended={s.suspended} />
      {error ? <p role="alert">{error}</p> : null}
      <div class="grid">
        <Facts kind={kind} s={s} data={data} />
        <Conditions data={data} />
      </div>
      {kind === "Kustomization" ? (
        <>
          <DepGraph items={items} self={{ kind, namespace, name }} />
          <Inventory
            source={data?.source}
            self={s}
            items={data?.inventory}
            truncated={data?.inventoryTruncated ?? false}
          />
          <Drift drift={data?.drift} />
          <History data={data} />
        </>
      ) : null}
      {kind === "HelmRelease" ? <Releases releases={data?.releases} /> : null}
      <section aria-labelledby="events-page-h">
        <h2 id="events-page-h">Events</h2>
        <EventList events={events} />
      </section>
    </>
  );
}

function mergeEvents(live: EventView[], fetched: EventView[]): EventView[] {
  const byKey = new Map<string, EventView>();
  for (const e of fetched) byKey.set(e.key, e);
  for (const e of live) byKey.set(e.key, e);
  return [...byKey.values()].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, 100);
}

function Inventory(props: {
  source: Detail["source"];
  self: Summary;
  items: InventoryItem[] | undefined;
  truncated: boolean;
}) {
  const { items } = props;
  const groups = new Map<string, InventoryItem[]>();
  for (const i of items ?? []) {
    const list = groups.get(i.kind) ?? [];
    list.push(i);
    groups.set(i.kind, list);
  }
  return (
    <section aria-labelledby="inv-h">
      <h2 id="inv-h">Inventory</h2>
      {items === undefined ? (
        <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="muted">No applied objects.</p>
      ) : (
        <div class="tree">
          <div class="tree-root">
            {props.source ? `${props.source.kind} ${props.source.namespace}/${props.source.name}` : "source"} →{" "}
            {`Kustomization ${props.self.namespace}/${props.self.name}`} ({items.length} objects)
          </div>
          {[...groups.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([kind, list]) => (
              <details open key={kind} class="tree-group">
                <summary>
                  {kind} <span class="muted">({list.length})</span>
                </summary>
                <ul aria-label={`${kind} objects`}>
                  {list.map((i) => (
                    <InventoryRow key={i.id} item={i} />
                  ))}
                </ul>
              </details>
            ))}
          {props.truncated ? <p class="muted">Only the first objects are read live.</p> : null}
        </div>
      )}
    </section>
  );
}

function Drift({ drift }: { drift: DriftView[] | undefined }) {
  return (
    <section aria-labelledby="drift-h">
      <h2 id="drift-h">Drift</h2>
      {drift === undefined ? (
        <p class="muted">Loading…</p>
      ) : drift.length === 0 ? (
        <p class="muted">No object changed by hand and reverted in the recent Events.</p>
      ) : (
        <ol class="drift" aria-label="Drift corrections">
          {drift.map((d) => (
            <li key={`${d.time}/${d.objects.join()}`}>
              <Time value={d.time} /> {d.count > 1 ? `(${d.count} times) ` : ""}
              reverted at <Revision value={d.revision} />:
              <ul>
                {d.objects.map((o) => (
                  <li key={o}>
                    <code>{o}</code>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Releases({ releases }: { releases: ReleaseView[] | undefined }) {
  if (!releases) return null;
  return (
    <section aria-labelledby="releases-h">
      <h2 id="releases-h">History</h2>
      {releases.length === 0 ? (
        <p class="muted">No release yet.</p>
      ) : (
        <Table
          label="Releases"
          columns={["Revision", "Chart", "App version", "Status", "Deployed", "First deployed"]}
          rows={releases}
          row={(r) => (
            <tr key={`${r.version}/${r.digest}`}>
              <th scope="row">{r.version}</th>
              <td>
                <code>{`${r.chartName}-${r.chartVersion}`}</code>
              </td>
              <td>{r.appVersion || "—"}</td>
              <td>{r.status}</td>
              <td>
                <Time value={r.lastDeployed} />
              </td>
              <td>
                <Time value={r.firstDeployed} />
              </td>
            </tr>
          )}
        />
      )}
    </section>
  );
}

function History({ data }: { data: Detail | undefined }) {
  if (!data || data.history.length === 0) return null;
  return (
    <section aria-labelledby="hist-h">
      <h2 id="hist-h">History</h2>
      <Table
        label="History"
        columns={["Revision", "Status", "Runs", "Last", "Duration"]}
        rows={data.history}
        row={(h) => (
          <tr key={h.digest + h.lastReconciled}>
            <td>
              <Revision value={h.revision} />
            </td>
            <td>{h.lastReconciledStatus}</td>
            <td>{h.totalReconciliations}</td>
            <td>
              <Time value={h.lastReconciled} />
            </td>
            <td>{h.lastReconciledDuration}</td>
          </tr>
        )}
      />
    </section>
  );
}

function ActionBar(props: { kind: Props["kind"]; namespace: string; name: string; suspended: boolean }) {
  const [busy, setBusy] = useState<Action | "">("");
  const [result, setResult] = useState<{ ok: boolean; message: string } | undefined>();
  const run = async (action: Action) => {
    setBusy(action);
    setResult(undefined);
    try {
      setResult(await act(action, props.kind, props.namespace, props.name));
    } finally {
      setBusy("");
    }
  };
  return (
    <section aria-label="Actions" class="actions">
      <button type="button" disabled={busy !== ""} onClick={() => run("reconcile")}>
        {busy === "reconcile" ? "Requesting…" : props.kind === "Kustomization" ? "Reconcile with source" : "Reconcile"}
      </button>
      <button type="button" disabled={busy !== ""} onClick={() => run(props.suspended ? "resume" : "suspend")}>
        {props.suspended ? "Resume" : "Suspend"}
      </button>
      {result?.ok ? (
        <p role="status" class="ok-note">
          {result.message}
        </p>
      ) : null}
      {result && !result.ok ? (
        <p role="alert" class="refusal">
          Refused: {result.message}
        </p>
      ) : null}
    </section>
  );
}

function Facts({ kind, s, data }: { kind: Props["kind"]; s: Summary; data: Detail | undefined }) {
  return (
    <section aria-labelledby="source-h">
      <h2 id="source-h">{isSourceKind(kind) ? "Artifact" : "Source"}</h2>
      <dl class="facts">
        {kind === "HelmRelease" ? <HelmFacts s={s} /> : null}
        {data?.source ? <SourceFacts kind={kind} src={data.source} /> : null}
        {kind === "Kustomization" ? (
          <>
            <dt>Path</dt>
            <dd>
              <code>{s.path || "./"}</code>
            </dd>
            <dt>Last applied revision</dt>
            <dd data-testid="applied-revision">
              <Revision value={s.revision} />
            </dd>
            <dt>Last attempted revision</dt>
            <dd data-testid="attempted-revision">
              <Revision value={s.attemptedRevision} />
              {s.attemptedRevision && s.attemptedRevision !== s.revision ? (
                <span class="badge state-failing">differs</span>
              ) : null}
            </dd>
          </>
        ) : null}
        <dt>Interval</dt>
        <dd>{data?.interval || "—"}</dd>
        <dt>Generation</dt>
        <dd>{data ? `${data.observedGeneration} of ${data.generation} observed` : "—"}</dd>
        <dt>Suspended</dt>
        <dd data-testid="suspended">{s.suspended ? "yes" : "no"}</dd>
      </dl>
    </section>
  );
}

function HelmFacts({ s }: { s: Summary }) {
  return (
    <>
      <dt>Chart</dt>
      <dd>
        <code>{s.path || "—"}</code>
        {s.source ? <span class="muted">{` from ${s.source.kind} ${s.source.namespace}/${s.source.name}`}</span> : null}
      </dd>
      <dt>Released chart version</dt>
      <dd data-testid="applied-revision">
        <code>{s.revision || "—"}</code>
      </dd>
      <dt>Last attempted revision</dt>
      <dd data-testid="attempted-revision">
        <code>{s.attemptedRevision || "—"}</code>
      </dd>
    </>
  );
}

function Conditions({ data }: { data: Detail | undefined }) {
  return (
    <section aria-labelledby="cond-h">
      <h2 id="cond-h">Conditions</h2>
      {data && data.conditions.length > 0 ? (
        <Table
          label="Conditions"
          columns={["Type", "Status", "Reason", "Message", "Since"]}
          rows={data.conditions}
          row={(c) => (
            <tr key={c.type}>
              <th scope="row">{c.type}</th>
              <td>{c.status}</td>
              <td>{c.reason}</td>
              <td class="message">{c.message}</td>
              <td>
                <Time value={c.lastTransitionTime} />
              </td>
            </tr>
          )}
        />
      ) : (
        <p class="muted">None yet.</p>
      )}
    </section>
  );
}

function InventoryRow({ item: i }: { item: InventoryItem }) {
  const [yaml, setYaml] = useState<string | undefined>();
  const [open, setOpen] = useState(false);
  const toggle = async () => {
    if (open) {
      setOpen(false);
      return;
    }
    setOpen(true);
    setYaml("Loading…");
    try {
      setYaml((await liveYaml(i)).yaml);
    } catch (e) {
      setYaml(`# ${(e as Error).message}`);
    }
  };
  const label = i.namespace ? `${i.namespace}/${i.name}` : i.name;
  return (
    <li data-id={i.id}>
      <HealthBadge health={i.health} /> <span>{label}</span> <span class="muted">{i.message}</span>{" "}
      <button
        type="button"
        class="small"
        aria-expanded={open}
        aria-label={`YAML of ${i.kind} ${label}`}
        onClick={toggle}
      >
        YAML
      </button>
      {open ? (
        <pre class="yaml" data-testid="live-yaml">
          {yaml}
        </pre>
      ) : null}
    </li>
  );
}

/** The source of a Kustomization or HelmRelease, or a source's own artifact. */
function SourceFacts({ kind, src }: { kind: Props["kind"]; src: NonNullable<Detail["source"]> }) {
  const refLabel = src.kind === "HelmChart" ? "Version asked" : src.kind === "HelmRepository" ? "Type" : "Branch / ref";
  return (
    <>
      {kind === "Kustomization" || kind === "HelmRelease" ? (
        <>
          <dt>{kind === "HelmRelease" ? "Chart source" : "Source"}</dt>
          <dd data-testid="source-link">
            <a href={sourceHref(src.namespace, src.name, src.kind)}>
              {src.kind} {src.namespace}/{src.name}
            </a>{" "}
            <StateBadge state={src.state} />
          </dd>
        </>
      ) : null}
      {src.chart !== undefined ? (
        <>
          <dt>Chart</dt>
          <dd>
            <code>{src.chart}</code>
            {src.from ? (
              <span class="muted">
                {" from "}
                <a href={sourceHref(src.from.namespace, src.from.name, src.from.kind)}>
                  {`${src.from.kind} ${src.from.name}`}
                </a>
              </span>
            ) : null}
          </dd>
        </>
      ) : null}
      <dt>URL</dt>
      <dd>
        <code>{src.url || "—"}</code>
      </dd>
      <dt>{refLabel}</dt>
      <dd>{src.ref || "default"}</dd>
      <dt>Source revision</dt>
      <dd>
        {src.commitUrl ? (
          <a href={src.commitUrl} rel="noreferrer noopener" target="_blank">
            <Revision value={src.revision} />
          </a>
        ) : (
          <Revision value={src.revision} />
        )}
      </dd>
      {isSourceKind(kind) ? (
        <>
          <dt>Digest</dt>
          <dd>
            <code class="wrap">{src.digest || "—"}</code>
          </dd>
          <dt>Size</dt>
          <dd>{src.size !== undefined ? `${formatSize(src.size)} (${src.size} bytes)` : "—"}</dd>
          <dt>Last fetch</dt>
          <dd>
            <Time value={src.lastUpdateTime} />
          </dd>
        </>
      ) : null}
    </>
  );
}
