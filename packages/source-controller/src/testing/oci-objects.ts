// OCIRepository objects in a GitRepositoryHarness's namespace, for the OCI integration tests: create with defaults,
// read, wait for Ready at a revision or for a failure reason, ask for a reconcile.
import { ociRepositoryType } from "@capstan/api";
import { eventually } from "@capstan/cluster/testing";
import { getCondition } from "@capstan/runtime";
import type { OCIRepositoryObject } from "../ocirepository/state.js";
import type { GitRepositoryHarness } from "./gitrepository-harness.js";

export class OciObjects {
  constructor(
    private readonly h: GitRepositoryHarness,
    /** Spec fields every create starts from (under the test's own); interval 10m always. */
    private readonly defaults: Record<string, unknown> = {},
  ) {}

  ref(name: string) {
    return { apiVersion: ociRepositoryType.apiVersion, kind: "OCIRepository", namespace: this.h.ns.name, name };
  }

  get(name: string): Promise<OCIRepositoryObject | undefined> {
    return this.h.client.get<OCIRepositoryObject>(this.ref(name));
  }

  async create(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.h.client.create({
      apiVersion: ociRepositoryType.apiVersion,
      kind: "OCIRepository",
      metadata: { name, namespace: this.h.ns.name },
      spec: { interval: "10m", ...this.defaults, ...spec },
    });
  }

  readyAt(name: string, revision: string): Promise<OCIRepositoryObject> {
    return eventually(
      async () => {
        const o = await this.get(name);
        return o && getCondition(o, "Ready")?.status === "True" && o.status?.artifact?.revision === revision
          ? o
          : undefined;
      },
      { timeoutMs: 30_000, what: `${name} Ready at ${revision}` },
    );
  }

  failing(name: string, reason: string, timeoutMs = 30_000): Promise<OCIRepositoryObject> {
    return eventually(
      async () => {
        const o = await this.get(name);
        const r = o && getCondition(o, "Ready");
        return r?.status === "False" && r.reason === reason ? o : undefined;
      },
      { timeoutMs, what: `${name} Ready=False with ${reason}` },
    );
  }

  async requestReconcile(name: string, token: string): Promise<void> {
    await this.h.client.mergePatch(this.ref(name), {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } },
    });
  }

  /** Sets requestedAt and waits until the controller has handled it. */
  async reconciled(name: string, token: string): Promise<OCIRepositoryObject> {
    await this.requestReconcile(name, token);
    return eventually(
      async () => {
        const o = await this.get(name);
        return o?.status?.lastHandledReconcileAt === token ? o : undefined;
      },
      { what: `${name} handled ${token}` },
    );
  }
}
