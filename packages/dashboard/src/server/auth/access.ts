// What a user may see and do, asked of the apiserver with SubjectAccessReviews (RBAC and any other authorizer it
// runs): there is no second permission system here. Answers are cached briefly per user, verb, resource and namespace.
import type { Client, ResourceType } from "@capstan/runtime";
import type { Principal } from "./authenticate.js";

export interface AccessOptions {
  client: Client;
  /** How long an answer is reused (default 10 s). */
  ttlMs?: number;
  now?: () => number;
}

interface Answer {
  allowed: Promise<boolean>;
  at: number;
}

export class AccessReviewer {
  private readonly cache = new Map<string, Answer>();
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(private readonly options: AccessOptions) {
    this.ttl = options.ttlMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** May `who` `verb` objects of `type` in `namespace` ("" for all namespaces)? */
  allowed(
    who: Principal,
    verb: string,
    type: Pick<ResourceType, "group" | "plural">,
    namespace: string,
  ): Promise<boolean> {
    if (who.insecure) return Promise.resolve(true);
    const key = [who.user, who.groups.join(","), verb, type.group, type.plural, namespace].join("\0");
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttl) return hit.allowed;
    const allowed = this.review(who, verb, type, namespace).catch(() => {
      // A failed review denies, and is not cached: the next request asks again.
      this.cache.delete(key);
      return false;
    });
    if (this.cache.size > 50_000) this.prune();
    this.cache.set(key, { allowed, at: this.now() });
    return allowed;
  }

  /** May `who` list `type` in `namespace`: allowed cluster-wide, or in that namespace. */
  async canList(who: Principal, type: Pick<ResourceType, "group" | "plural">, namespace: string): Promise<boolean> {
    if (await this.allowed(who, "list", type, "")) return true;
    return namespace !== "" && this.allowed(who, "list", type, namespace);
  }

  private async review(
    who: Principal,
    verb: string,
    type: Pick<ResourceType, "group" | "plural">,
    namespace: string,
  ): Promise<boolean> {
    const res = await this.options.client.create<{
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      status?: { allowed?: boolean };
    }>({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: { name: "" },
      spec: {
        user: who.user,
        groups: who.groups,
        resourceAttributes: { verb, group: type.group, resource: type.plural, ...(namespace ? { namespace } : {}) },
      },
    });
    return res.status?.allowed === true;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.cache) if (now - v.at >= this.ttl) this.cache.delete(k);
    if (this.cache.size > 50_000) this.cache.clear();
  }
}
