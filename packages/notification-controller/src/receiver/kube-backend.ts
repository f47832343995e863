// The Receiver handler's Kubernetes side: finds Receivers by status.webhookPath, reads the token Secret, and annotates
// resources with reconcile.fluxcd.io/requestedAt (a merge patch of that one annotation, nothing else).
// Receivers and their token Secrets come from informer caches, never from the API: whoever can reach the webhook port
// can send any number of requests, and a request that fails validation must cost no API call (a GET per request would
// queue behind the client's rate limit, and a flood of bad requests would delay the good ones by seconds). Only a
// request that passed validation reaches the API, to annotate what its Receiver selects.
import { ConditionStatus, type Receiver } from "@capstan/api";
import {
  Annotations,
  type Cache,
  type Client,
  Conditions,
  decodeSecretStrings,
  type KubeObject,
  type SecretObject,
} from "@capstan/runtime";
import type { ReceiverBackend, ReceiverView, ReconcileTarget } from "./handler.js";

export interface KubeReceiverBackendOptions {
  /** For the annotation patches only (and the list behind a wildcard resource). */
  client: Client;
  /** All Receivers, from the informer cache. */
  listReceivers: () => Promise<Receiver[]> | Receiver[];
  /** The Secret informer's cache (the one the Receiver reconciler reads too): token rotation is seen through it. */
  secrets: Cache<SecretObject>;
  fieldManager?: string;
  now?: () => Date;
}

/** metav1.Now().String(), which is what Flux writes into the annotation: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function goTimeNow(date: Date): string {
  const iso = date.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ""} +0000 UTC`;
}

export function receiverView(r: Receiver): ReceiverView {
  const ready = r.status?.conditions?.find((c) => c.type === Conditions.Ready)?.status === ConditionStatus.True;
  return {
    namespace: r.metadata.namespace ?? "",
    name: r.metadata.name ?? "",
    type: r.spec.type,
    ...(r.spec.events ? { events: r.spec.events } : {}),
    resources: r.spec.resources.map((res) => ({
      kind: res.kind,
      name: res.name,
      ...(res.apiVersion ? { apiVersion: res.apiVersion } : {}),
      ...(res.namespace ? { namespace: res.namespace } : {}),
      ...(res.matchLabels ? { matchLabels: res.matchLabels } : {}),
      ...(res.filter ? { filter: res.filter } : {}),
    })),
    ...(r.spec.resourceFilter ? { resourceFilter: r.spec.resourceFilter } : {}),
    suspended: r.spec.suspend === true,
    ready,
  };
}

/** Reads the `token` key of a cached Secret; errors name the Secret, never its content. */
export function readToken(secrets: Cache<SecretObject>, namespace: string, secretName: string | undefined): string {
  if (!secretName) throw new Error("spec.secretRef is not set");
  const secret = secrets.get(`${namespace}/${secretName}`);
  if (!secret) throw new Error(`Secret '${namespace}/${secretName}' not found`);
  const token = decodeSecretStrings(secret.data).token;
  if (token === undefined) throw new Error(`invalid '${namespace}/${secretName}' secret data: required field 'token'`);
  return token;
}

export function createKubeReceiverBackend(options: KubeReceiverBackendOptions): ReceiverBackend {
  const { client } = options;
  const fieldManager = options.fieldManager ?? "notification-controller";
  const now = options.now ?? (() => new Date());
  const byView = new WeakMap<ReceiverView, Receiver>();
  const annotate = (ref: { apiVersion: string; kind: string; namespace: string; name: string }) =>
    client.mergePatch(
      ref,
      { metadata: { annotations: { [Annotations.ReconcileRequest]: goTimeNow(now()) } } },
      { fieldManager },
    );
  return {
    async findByPath(path) {
      const receivers = await options.listReceivers();
      const found = receivers.find((r) => r.status?.webhookPath === path);
      if (!found) return undefined;
      const view = receiverView(found);
      byView.set(view, found);
      return view;
    },
    async token(view) {
      const r = byView.get(view);
      return readToken(options.secrets, view.namespace, r?.spec.secretRef?.name);
    },
    async requestReconcile(_view, target: ReconcileTarget) {
      // What the Receiver's CEL filters see of an object: Flux's PartialObjectMetadata.
      const accepted = (obj: KubeObject) =>
        !target.accept || target.accept({ apiVersion: target.apiVersion, kind: target.kind, metadata: obj.metadata });
      if (target.name !== "*") {
        if (target.accept) {
          const { apiVersion, kind, namespace, name } = target;
          const obj = await client.get({ apiVersion, kind, namespace, name });
          if (!obj) throw new Error(`unable to read ${target.kind} '${target.namespace}/${target.name}': not found`);
          if (!accepted(obj)) return 0;
        }
        await annotate(target);
        return 1;
      }
      const type = await client.resourceFor(target.apiVersion, target.kind);
      const selector = Object.entries(target.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      const { items } = await client.list(type, { namespace: target.namespace, labelSelector: selector });
      let annotated = 0;
      for (const item of items) {
        if (!accepted(item)) continue;
        annotated++;
        await annotate({
          apiVersion: target.apiVersion,
          kind: target.kind,
          namespace: target.namespace,
          name: item.metadata.name,
        });
      }
      return annotated;
    },
  };
}
