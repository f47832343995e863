// The preferred version of an API group, as discovery (and so a RESTMapper) reports it: Flux checks the health of
// a healthChecks entry by group and kind only, so an entry without apiVersion (group `apps`, Flux's default kept from
// v1beta1) is read at the group's preferred version. The aggregator's APIService objects carry exactly the ordering
// that /apis uses (versionPriority, then Kubernetes version order), for built-in groups and CRDs alike.
import type { Client, KubeObject, ResourceType } from "@capstan/runtime";

const apiServiceType: ResourceType = {
  group: "apiregistration.k8s.io",
  version: "v1",
  kind: "APIService",
  plural: "apiservices",
  namespaced: false,
};

interface APIService extends KubeObject {
  spec?: { group?: string; version?: string; versionPriority?: number };
}

const versionPattern = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** Kubernetes version order, highest first: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else (by name). */
export function compareVersions(a: string, b: string): number {
  const ma = versionPattern.exec(a);
  const mb = versionPattern.exec(b);
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a.localeCompare(b);
  const stage = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === "beta" ? 1 : 0);
  return stage(mb) - stage(ma) || Number(mb[1]) - Number(ma[1]) || Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

export class PreferredVersions {
  private cached: { at: number; byGroup: Map<string, string> } | undefined;

  constructor(
    private readonly client: Pick<Client, "list">,
    private readonly ttlMs = 60_000,
  ) {}

  /** The preferred version of group ("" is the core group: v1). */
  async of(group: string): Promise<string> {
    if (group === "") return "v1";
    let byGroup = this.cached && Date.now() - this.cached.at < this.ttlMs ? this.cached.byGroup : undefined;
    if (!byGroup?.has(group)) {
      byGroup = await this.load();
      this.cached = { at: Date.now(), byGroup };
    }
    const version = byGroup.get(group);
    if (!version) throw new Error(`API group '${group}' is not served`);
    return version;
  }

  private async load(): Promise<Map<string, string>> {
    let items: APIService[];
    try {
      ({ items } = await this.client.list<APIService>(apiServiceType));
    } catch (cause) {
      throw new Error("discover API groups: list APIServices failed", { cause });
    }
    const best = new Map<string, { version: string; priority: number }>();
    for (const s of items) {
      const group = s.spec?.group;
      const version = s.spec?.version;
      if (!group || !version) continue;
      const priority = s.spec?.versionPriority ?? 0;
      const current = best.get(group);
      if (
        !current ||
        priority > current.priority ||
        (priority === current.priority && compareVersions(version, current.version) < 0)
      ) {
        best.set(group, { version, priority });
      }
    }
    return new Map([...best].map(([g, v]) => [g, v.version]));
  }
}
