// URL paths of the Kubernetes REST API, and the short object descriptions used in error messages.
import type { ResourceType } from "../contracts.js";

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function formatApiVersion(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

export function groupVersionPath(group: string, version: string): string {
  return group === ""
    ? `/api/${encodeURIComponent(version)}`
    : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
}

/** The collection of a resource type, in one namespace or (namespace omitted) across all of them. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = groupVersionPath(type.group, type.version);
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${encodeURIComponent(type.plural)}`;
}

export function objectPath(type: ResourceType, name: string, namespace?: string, subresource?: string): string {
  if (type.namespaced && !namespace) {
    throw new Error(`${type.kind} is namespaced: metadata.namespace is required`);
  }
  const sub = subresource ? `/${encodeURIComponent(subresource)}` : "";
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}${sub}`;
}

/** `Kind/namespace/name` or `Kind/name`: how Flux names objects in messages. */
export function describeObject(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

/** A query string from the options that are set; booleans become "true"/"false". */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
