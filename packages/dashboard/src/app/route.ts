// Hash routes (#/apps/<ns>/<name>): bookmarkable, and the server needs no route table for the app.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "overview" }
  | { page: "apps" }
  | { page: "app"; namespace: string; name: string }
  | { page: "helmrelease"; namespace: string; name: string }
  | { page: "sources" }
  | { page: "source"; namespace: string; name: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [page, namespace, name] = parts;
  if (page === "apps" && namespace && name) return { page: "app", namespace, name };
  if (page === "apps") return { page: "apps" };
  if (page === "helmreleases" && namespace && name) return { page: "helmrelease", namespace, name };
  if (page === "sources" && namespace && name) return { page: "source", namespace, name };
  if (page === "sources") return { page: "sources" };
  return { page: "overview" };
}

/** A Kustomization's page (#/apps/…), or a HelmRelease's (#/helmreleases/…). */
export const appHref = (namespace: string, name: string, kind = "Kustomization") =>
  `#/${kind === "HelmRelease" ? "helmreleases" : "apps"}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
export const sourceHref = (namespace: string, name: string) =>
  `#/sources/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
