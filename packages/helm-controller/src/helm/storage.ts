// Where a release's records live. Flux's helm-controller drives Helm's SDK with a storage driver bound to
// spec.storageNamespace and a kube client bound to the release namespace; helm's CLI has one --namespace for both.
// So when the two differ, each helm command runs with its records checked out: copied from the storage namespace
// into the release namespace before the command, and afterwards every record of the release there is written back to
// the storage namespace (records helm pruned or deleted are deleted there too) and the copies are removed. Between
// commands the records live only in the storage namespace, where `helm ls -n <storageNamespace>` sees them.
import { type Client, isAlreadyExists, type KubeObject, secretType } from "@capstan/runtime";
import { type HelmReleaseRecord, listReleases } from "./release.js";

interface StoredSecret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export class ReleaseStorage {
  constructor(
    private readonly client: Client,
    readonly name: string,
    readonly releaseNamespace: string,
    readonly storageNamespace: string,
    /** Field manager of the records written back to the storage namespace (helm's own). */
    private readonly fieldManager = "helm",
  ) {}

  get separate(): boolean {
    return this.storageNamespace !== this.releaseNamespace;
  }

  /** Every stored revision of the release, newest first. */
  list(): Promise<HelmReleaseRecord[]> {
    return listReleases(this.client, this.storageNamespace, this.name);
  }

  /** Runs a helm command of this release with its records where helm's CLI looks for them. */
  async around<T>(command: () => Promise<T>): Promise<T> {
    if (!this.separate) return command();
    const checkedOut = await this.checkOut();
    let result: T;
    try {
      result = await command();
    } catch (err) {
      await this.checkIn(checkedOut);
      throw err;
    }
    await this.checkIn(checkedOut);
    return result;
  }

  private async secrets(namespace: string): Promise<StoredSecret[]> {
    const { items } = await this.client.list<StoredSecret>(secretType, {
      namespace,
      labelSelector: `owner=helm,name=${this.name}`,
    });
    return items;
  }

  private copy(s: StoredSecret, namespace: string): StoredSecret {
    return {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: s.metadata.name, namespace, labels: { ...(s.metadata.labels ?? {}) } },
      ...(s.type ? { type: s.type } : {}),
      data: { ...(s.data ?? {}) },
    };
  }

  /** Copies the records into the release namespace; a copy already there (left by an interrupted pass) is newer. */
  private async checkOut(): Promise<Set<string>> {
    const names = new Set<string>();
    try {
      for (const s of await this.secrets(this.storageNamespace)) {
        try {
          await this.client.create(this.copy(s, this.releaseNamespace));
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
        names.add(s.metadata.name);
      }
    } catch (cause) {
      throw new Error(`check out release records from storage namespace '${this.storageNamespace}'`, { cause });
    }
    return names;
  }

  /** Writes every record back to the storage namespace, deletes the ones helm removed, then the copies. */
  private async checkIn(checkedOut: Set<string>): Promise<void> {
    try {
      const current = await this.secrets(this.releaseNamespace);
      const kept = new Set(current.map((s) => s.metadata.name));
      for (const s of current) {
        await this.client.apply(this.copy(s, this.storageNamespace), { fieldManager: this.fieldManager, force: true });
      }
      for (const name of checkedOut) {
        if (!kept.has(name)) await this.client.delete({ ...secretRef(name), namespace: this.storageNamespace });
      }
      for (const s of current) {
        await this.client.delete({ ...secretRef(s.metadata.name), namespace: this.releaseNamespace });
      }
    } catch (cause) {
      throw new Error(`write release records back to storage namespace '${this.storageNamespace}'`, { cause });
    }
  }
}

const secretRef = (name: string) => ({ apiVersion: "v1", kind: "Secret", name });
