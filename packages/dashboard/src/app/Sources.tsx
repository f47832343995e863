// Sources: GitRepositories, OCIRepositories, HelmRepositories and HelmCharts with their artifact (revision, digest,
// size, last update), URL and Ready reason and message, live from the stream; notification objects below them.

import { byStateThenKey } from "../shared/order.js";
import type { Summary, SummaryKind } from "../shared/types.js";
import { isSourceKind, sourceHref } from "./route.js";
import { Revision, StateBadge, Table, Time } from "./ui.js";

const sections: { kind: SummaryKind; title: string; id: string; refLabel: string }[] = [
  { kind: "GitRepository", title: "Git repositories", id: "git-h", refLabel: "Ref" },
  { kind: "OCIRepository", title: "OCI repositories", id: "oci-h", refLabel: "Ref" },
  { kind: "HelmRepository", title: "Helm repositories", id: "helmrepo-h", refLabel: "Type" },
  { kind: "HelmChart", title: "Helm charts", id: "helmchart-h", refLabel: "Version asked" },
];

/** Bytes in the units `ls -h` uses. */
export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** `sha256:0123…` → `sha256:0123456789ab` (full text in the title). */
function Digest({ value }: { value: string | undefined }) {
  if (!value) return <span class="muted">—</span>;
  const m = /^([a-z0-9]+):([0-9a-f]{12})[0-9a-f]*$/.exec(value);
  return (
    <code class="revision" title={value}>
      {m ? `${m[1]}:${m[2]}` : value}
    </code>
  );
}

function SourceRow({ r }: { r: Summary }) {
  const helmChart = r.kind === "HelmChart";
  return (
    <tr key={r.key} data-key={r.key}>
      <th scope="row">
        <a href={sourceHref(r.namespace, r.name, r.kind)}>{`${r.namespace}/${r.name}`}</a>
      </th>
      <td>
        <StateBadge state={r.state} />
        {r.reason ? <div class="muted">{r.reason}</div> : null}
        {r.message ? <div class="message">{r.message}</div> : null}
      </td>
      <td>
        {helmChart ? (
          <>
            <code>{r.path}</code>
            {r.source ? (
              <div class="muted">
                from{" "}
                {isSourceKind(r.source.kind) ? (
                  <a href={sourceHref(r.source.namespace, r.source.name, r.source.kind)}>
                    {`${r.source.kind} ${r.source.name}`}
                  </a>
                ) : (
                  `${r.source.kind} ${r.source.name}`
                )}
              </div>
            ) : null}
          </>
        ) : (
          <code class="wrap">{r.path}</code>
        )}
      </td>
      <td>{r.ref || "default"}</td>
      <td data-testid="source-revision">
        <Revision value={r.revision} />
      </td>
      <td>
        <Digest value={r.artifact?.digest} />
      </td>
      <td>{formatSize(r.artifact?.size)}</td>
      <td>
        <Time value={r.artifact?.lastUpdate ?? ""} />
      </td>
    </tr>
  );
}

export function Sources({ items }: { items: Summary[] }) {
  const sort = byStateThenKey;
  const notifications = items
    .filter((s) => s.kind === "Provider" || s.kind === "Alert" || s.kind === "Receiver")
    .sort(sort);
  return (
    <>
      <h1>Sources</h1>
      {sections.map(({ kind, title, id, refLabel }) => {
        const rows = items.filter((s) => s.kind === kind).sort(sort);
        // Git repositories always have a section (the usual source); the others only when there are some.
        if (rows.length === 0 && kind !== "GitRepository") return null;
        return (
          <section aria-labelledby={id} key={kind}>
            <h2 id={id}>{title}</h2>
            {rows.length === 0 ? (
              <p class="muted">None you may see.</p>
            ) : (
              <Table
                label={title}
                columns={[
                  "Name",
                  "Ready",
                  kind === "HelmChart" ? "Chart" : "URL",
                  refLabel,
                  "Revision",
                  "Digest",
                  "Size",
                  "Last update",
                ]}
                rows={rows}
                row={(r) => <SourceRow key={r.key} r={r} />}
              />
            )}
          </section>
        );
      })}
      {notifications.length > 0 ? (
        <section aria-labelledby="notif-h">
          <h2 id="notif-h">Notifications</h2>
          <Table
            label="Notification objects"
            columns={["Kind", "Name", "State", "Message"]}
            rows={notifications}
            row={(n) => (
              <tr key={n.key}>
                <td>{n.kind}</td>
                <th scope="row">{`${n.namespace}/${n.name}`}</th>
                <td>
                  <StateBadge state={n.state} />
                </td>
                <td class="message">{n.message}</td>
              </tr>
            )}
          />
        </section>
      ) : null}
    </>
  );
}
