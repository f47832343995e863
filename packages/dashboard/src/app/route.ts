// Hash routes (#/apps/<ns>/<name>): bookmarkable, and the server needs no route table for the app.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "overview" }
  | { page: "apps" }
  | { page: "app"; namespace: string; name: string }
  | { page: "helmrelease"; namespace: string; name: string }
  | { page: "sources" }
  | { page: "source"; kind: SourceKind; namespace: string; name: string };

/** The kinds a source page (#/sources/…) shows. */
export type SourceKind = "GitRepository" | "OCIRepository" | "HelmRepository" | "HelmChart";
const otherSourceKinds: readonly string[] = ["OCIRepository", "HelmRepository", "HelmChart"];

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [page, namespace, name, rest] = parts;
  if (page === "apps" && namespace && name) return { page: "app", namespace, name };
  if (page === "apps") return { page: "apps" };
  if (page === "helmreleases" && namespace && name) return { page: "helmrelease", namespace, name };
  // #/sources/<Kind>/<ns>/<name> for the Helm and OCI sources (a namespace is never capitalised).
  if (page === "sources" && namespace && otherSourceKinds.includes(namespace) && name && rest) {
    return { page: "source", kind: namespace as SourceKind, namespace: name, name: rest };
  }
  if (page === "sources" && namespace && name) return { page: "source", kind: "GitRepository", namespace, name };
  if (page === "sources") return { page: "sources" };
  return { page: "overview" };
}

/** A Kustomization's page (#/apps/…), or a HelmRelease's (#/helmreleases/…). */
export const appHref = (namespace: string, name: string, kind = "Kustomization") =>
  `#/${kind === "HelmRelease" ? "helmreleases" : "apps"}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
/** A source's page: #/sources/<ns>/<name> for a GitRepository (as before), #/sources/<Kind>/<ns>/<name> otherwise. */
export const sourceHref = (namespace: string, name: string, kind = "GitRepository") =>
  `#/sources/${kind === "GitRepository" ? "" : `${kind}/`}${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
export const isSourceKind = (kind: string): kind is SourceKind =>
  kind === "GitRepository" || otherSourceKinds.includes(kind);

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
