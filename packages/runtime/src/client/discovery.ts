// Discovery: apiVersion + kind → resource (plural, scope). One group-version is fetched at a time, on first use,
// and fetched again whenever a kind is missing from it, so a CRD installed after start is found on its first use.
import type { ResourceType } from "../contracts.js";
import { ApiError } from "./errors.js";
import { parseApiVersion } from "./paths.js";

/** The parts of metav1.APIResourceList that discovery reads. */
export interface APIResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Fetches /api/v1 or /apis/<group>/<version>; undefined when the group-version does not exist (404). */
export type FetchGroupVersion = (group: string, version: string) => Promise<APIResourceList | undefined>;

export class Discovery {
  private readonly cache = new Map<string, Map<string, ResourceType>>();
  private readonly inflight = new Map<string, Promise<Map<string, ResourceType>>>();

  constructor(private readonly fetch: FetchGroupVersion) {}

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceType> {
    const cached = this.cache.get(apiVersion)?.get(kind);
    if (cached) return cached;
    const fresh = await this.refresh(apiVersion);
    const found = fresh.get(kind);
    if (found) return found;
    throw new ApiError(`resolve ${kind} in ${apiVersion}`, {
      status: 404,
      reason: "NoKindMatch",
      serverMessage: `no kind ${kind} is served in ${apiVersion} (is its CRD installed?)`,
    });
  }

  /** Drops everything cached (for example after a CRD was deleted). */
  invalidate(): void {
    this.cache.clear();
  }

  // Concurrent misses for one group-version share a single request.
  private refresh(apiVersion: string): Promise<Map<string, ResourceType>> {
    let p = this.inflight.get(apiVersion);
    if (!p) {
      p = this.load(apiVersion).finally(() => this.inflight.delete(apiVersion));
      this.inflight.set(apiVersion, p);
    }
    return p;
  }

  private async load(apiVersion: string): Promise<Map<string, ResourceType>> {
    const { group, version } = parseApiVersion(apiVersion);
    const list = await this.fetch(group, version);
    const kinds = new Map<string, ResourceType>();
    for (const r of list?.resources ?? []) {
      // Subresources ("deployments/status") share the kind of their parent; only the parent names the resource.
      if (r.name.includes("/") || kinds.has(r.kind)) continue;
      kinds.set(r.kind, { group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced });
    }
    if (kinds.size > 0) this.cache.set(apiVersion, kinds);
    else this.cache.delete(apiVersion);
    return kinds;
  }
}
