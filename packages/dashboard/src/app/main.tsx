// The app shell: login (a Kubernetes bearer token, exchanged for an HttpOnly session cookie), navigation, theme, and
// the page the hash route names.
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Identity } from "../shared/types.js";
import { AppPage } from "./AppPage.js";
import { AppsList } from "./AppsList.js";
import { HttpError, login, loginOptions, logout, whoami } from "./api.js";
import type { LiveModel } from "./live.js";
import { Overview } from "./Overview.js";
import { useRoute } from "./route.js";
import { Sources } from "./Sources.js";
import { useLive } from "./use-live.js";

type Theme = "system" | "light" | "dark";
const themeKey = "capstan.theme";

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem(themeKey) as Theme | null) ?? "system");
  useEffect(() => {
    if (theme === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    localStorage.setItem(themeKey, theme);
  }, [theme]);
  const next = () => setTheme((t) => (t === "system" ? "light" : t === "light" ? "dark" : "system"));
  return [theme, next];
}

/** An OIDC login that came back refused: the server's message, in the URL it redirected to. */
function loginErrorFromUrl(): string {
  const message = new URLSearchParams(location.search).get("login_error") ?? "";
  if (message) history.replaceState(null, "", `${location.pathname}${location.hash}`);
  return message.slice(0, 300);
}

function Login({ onLogin }: { onLogin(id: Identity): void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(loginErrorFromUrl);
  const [busy, setBusy] = useState(false);
  const [oidc, setOidc] = useState(false);
  useEffect(() => {
    loginOptions()
      .then((o) => setOidc(o.oidc))
      .catch(() => setOidc(false));
  }, []);
  return (
    <main class="login">
      <h1>Capstan</h1>
      {oidc ? (
        <p>
          <a class="button" href="/api/oidc/login">
            Log in with your identity provider
          </a>
        </p>
      ) : null}
      <form
        aria-label="Log in"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError("");
          try {
            const id = await login(token);
            setToken("");
            onLogin(id);
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token">Kubernetes bearer token</label>
        <textarea
          id="token"
          rows={4}
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
        />
        <p class="muted">
          For example <code>kubectl create token &lt;service-account&gt;</code>. It is checked by the apiserver
          (TokenReview) and kept only by the dashboard's server.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </button>
        {error ? <p role="alert">{error}</p> : null}
      </form>
    </main>
  );
}

const sum = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
/** How many applications there are, from the counts (known before every one of them is in the model). */
const applications = (model: LiveModel) => sum(model.counts.Kustomization) + sum(model.counts.HelmRelease);

function Shell({ model, identity, onLogout }: { model: LiveModel; identity: Identity; onLogout(): void }) {
  useEffect(() => {
    if (!model.open) model.connect();
    return () => model.close();
  }, []);
  const version = useLive(model);
  const route = useRoute();
  const [theme, nextTheme] = useTheme();
  // The model mutates in place; version says it changed.
  const items = useMemo(() => [...model.items.values()], [version]);
  const events = useMemo(() => [...model.events.values()], [version]);
  const current =
    route.page === "app" || route.page === "apps" || route.page === "helmrelease"
      ? "apps"
      : route.page === "source" || route.page === "sources"
        ? "sources"
        : "overview";
  useEffect(() => {
    document.getElementById("main")?.focus();
  }, [route.page]);

  let page: preact.ComponentChildren;
  if (route.page === "apps") page = <AppsList items={items} complete={model.complete} total={applications(model)} />;
  else if (route.page === "sources") page = <Sources items={items} />;
  else if (route.page === "app" || route.page === "source" || route.page === "helmrelease") {
    const kind = route.page === "app" ? "Kustomization" : route.page === "helmrelease" ? "HelmRelease" : route.kind;
    const summary = model.items.get(`${kind}/${route.namespace}/${route.name}`);
    const liveEvents = events.filter(
      (e) => e.involved.kind === kind && e.involved.namespace === route.namespace && e.involved.name === route.name,
    );
    page = (
      <AppPage
        key={`${kind}/${route.namespace}/${route.name}`}
        kind={kind}
        namespace={route.namespace}
        name={route.name}
        summary={summary}
        liveEvents={liveEvents}
        items={items}
      />
    );
  } else page = <Overview items={items} events={events} counts={model.counts} />;

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Capstan</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={current === "overview" ? "page" : undefined}>
            Overview
          </a>
          <a href="#/apps" aria-current={current === "apps" ? "page" : undefined}>
            Applications
          </a>
          <a href="#/sources" aria-current={current === "sources" ? "page" : undefined}>
            Sources
          </a>
        </nav>
        <span class="spacer" />
        <span class={`conn conn-${model.connection}`} role="status" aria-label="Connection">
          {model.connection === "live" ? "● live" : model.connection}
        </span>
        <button type="button" onClick={nextTheme} aria-label={`Theme: ${theme}`}>
          {theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐"}
        </button>
        <span class="user" title={identity.groups.join(", ")}>
          {identity.insecure ? "local (no login)" : identity.user}
        </span>
        {identity.insecure ? null : (
          <button type="button" onClick={onLogout}>
            Log out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

function App({ model }: { model: LiveModel }) {
  const [identity, setIdentity] = useState<Identity | null | undefined>(undefined);
  useEffect(() => {
    whoami()
      .then(setIdentity)
      .catch((e: unknown) => {
        model.close();
        setIdentity(e instanceof HttpError && e.status === 401 ? null : null);
      });
  }, []);
  if (identity === undefined) return <p class="loading">Loading…</p>;
  if (identity === null) return <Login onLogin={setIdentity} />;
  return (
    <Shell
      model={model}
      identity={identity}
      onLogout={() => {
        // The server ends the session and closes its stream; the page drops what it was shown.
        model.close();
        model.clear();
        void logout().finally(() => setIdentity(null));
      }}
    />
  );
}

/** Renders the app over the model boot.ts has already connected. */
export function start(model: LiveModel): void {
  const root = document.getElementById("root");
  if (root) render(<App model={model} />, root);
}
