// Sources: GitRepositories with URL, ref, revision and state; notification objects below them.
import type { Summary } from "../shared/types.js";
import { sourceHref } from "./route.js";
import { Revision, StateBadge, stateRank, Table, Time } from "./ui.js";

export function Sources({ items }: { items: Summary[] }) {
  const sort = (a: Summary, b: Summary) => stateRank[a.state] - stateRank[b.state] || a.key.localeCompare(b.key);
  const repos = items.filter((s) => s.kind === "GitRepository").sort(sort);
  const notifications = items
    .filter((s) => s.kind === "Provider" || s.kind === "Alert" || s.kind === "Receiver")
    .sort(sort);
  return (
    <>
      <h1>Sources</h1>
      <section aria-labelledby="git-h">
        <h2 id="git-h">Git repositories</h2>
        {repos.length === 0 ? (
          <p class="muted">None you may see.</p>
        ) : (
          <Table
            label="Git repositories"
            columns={["Name", "State", "URL", "Ref", "Revision", "Since"]}
            rows={repos}
            row={(r) => (
              <tr key={r.key} data-key={r.key}>
                <th scope="row">
                  <a href={sourceHref(r.namespace, r.name)}>{`${r.namespace}/${r.name}`}</a>
                </th>
                <td>
                  <StateBadge state={r.state} />
                  {r.state !== "ready" ? <div class="message">{r.message}</div> : null}
                </td>
                <td>
                  <code class="wrap">{r.path}</code>
                </td>
                <td>{r.ref || "default"}</td>
                <td>
                  <Revision value={r.revision} />
                </td>
                <td>
                  <Time value={r.since} />
                </td>
              </tr>
            )}
          />
        )}
      </section>
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
