// The Alert and Provider "reconciler". v1beta3 Alerts and Providers have no status (as in Flux), so what a Flux user
// would look for is here: each Alert is validated and bound to its resolved Provider in the EventPipeline, and what
// cannot work (an invalid regex, a missing Provider or Secret, an unknown provider type, a bad address) becomes a
// Warning Event on the object, reason InvalidConfig as Flux's, once per distinct problem, and the Alert stops
// notifying until it is fixed. Never a crash. Provider and Secret changes re-resolve the Alerts that depend on them.
// A Provider of a type Capstan cannot send to is the exception: its Alerts stay bound to a notifier that drops each
// notification with a NotificationDispatchFailed Event (providers/unsupported.ts), as Flux reports every notification
// it fails to dispatch, so the loss is visible where `flux get` cannot show it.
import { type Alert, AlertReasons, type Provider } from "@capstan/api";
import {
  decodeSecretStrings,
  type EventRecorder,
  type Informer,
  type KubeObject,
  type Logger,
  type Outcome,
  objectKey,
  Reasons,
  type SecretObject,
  startWorkers,
  type WorkerPool,
  WorkQueue,
} from "@capstan/runtime";
import type { WatchedSources } from "../events/sources.js";
import { forAlert } from "../providers/notifier.js";
import type { NotifierCache } from "../providers/notifier-cache.js";
import { resolveProvider } from "../providers/resolve.js";
import { UnsupportedProviderTypeError, undeliverableNotifier } from "../providers/unsupported.js";
import { compileAlert } from "./matching.js";
import type { EventPipeline } from "./pipeline.js";

export type AlertObject = Alert & KubeObject;
export type ProviderObject = Provider & KubeObject;

export interface AlertBinderOptions {
  alerts: Informer<AlertObject>;
  providers: Informer<ProviderObject>;
  secrets: Informer<SecretObject>;
  sources: WatchedSources;
  pipeline: EventPipeline;
  notifiers: NotifierCache;
  events: EventRecorder;
  log: Logger;
  noCrossNamespaceRefs: boolean;
  concurrency: number;
  /** Retry backoff of a binding that failed for a transient reason (--min-retry-delay, --max-retry-delay). */
  backoff?: { baseDelayMs: number; maxDelayMs: number };
}

/** A problem that only a change of the Alert, its Provider or a Secret can fix: reported, not retried. */
class ConfigProblem extends Error {}

/** The Provider's type has no notifier: the Alert is bound, and each notification dropped visibly. */
class UnsupportedType extends ConfigProblem {
  constructor(
    message: string,
    readonly providerType: string,
  ) {
    super(message);
  }
}

/** What the pipeline needs, and why the Alert cannot deliver when its Provider's type is not supported. */
type Binding = Parameters<EventPipeline["setAlert"]>[0] & { cannotDeliver?: string };

const alertPrefix = "Alert/";
const providerPrefix = "Provider/";

export class AlertBinder {
  readonly #o: AlertBinderOptions;
  readonly #queue: WorkQueue<string>;
  /** Last problem reported per object key, so a problem is an Event once, not once per resync. */
  readonly #reported = new Map<string, string>();
  #pool: WorkerPool | undefined;

  constructor(options: AlertBinderOptions) {
    this.#o = options;
    this.#queue = new WorkQueue<string>(options.backoff ? { backoff: options.backoff } : {});
    const alertKey = (a: KubeObject) => this.#queue.add(alertPrefix + objectKey(a));
    options.alerts.addHandlers({
      onAdd: alertKey,
      onUpdate: (oldObj, newObj) => {
        if (oldObj.metadata.generation !== newObj.metadata.generation || oldObj.metadata.uid !== newObj.metadata.uid)
          alertKey(newObj);
      },
      onDelete: alertKey,
    });
    const providerKey = (p: KubeObject) => this.#queue.add(providerPrefix + objectKey(p));
    options.providers.addHandlers({
      onAdd: providerKey,
      onUpdate: (oldObj, newObj) => {
        if (oldObj.metadata.generation !== newObj.metadata.generation) providerKey(newObj);
      },
      onDelete: providerKey,
    });
    const secretChanged = (s: KubeObject) => {
      for (const p of this.#providersUsing(s.metadata.namespace ?? "", s.metadata.name)) providerKey(p);
    };
    options.secrets.addHandlers({
      onAdd: secretChanged,
      onUpdate: (oldObj, newObj) => {
        if (oldObj.metadata.resourceVersion !== newObj.metadata.resourceVersion) secretChanged(newObj);
      },
      onDelete: secretChanged,
    });
  }

  /** Starts the workers (on the leader, once the Alert, Provider and Secret caches are synced). */
  start(): void {
    if (this.#pool) return;
    this.#pool = startWorkers(
      this.#queue,
      this.#o.concurrency,
      (key) => this.#handle(key),
      (key, err) => this.#o.log.error({ key, err: (err as Error).message }, "alert binding failed"),
    );
  }

  /** Stops intake and waits for bindings in progress. */
  async stop(): Promise<void> {
    this.#queue.shutDown();
    await this.#queue.drain();
    await this.#pool?.finished;
  }

  async #handle(key: string): Promise<Outcome> {
    try {
      if (key.startsWith(providerPrefix)) this.#handleProvider(key.slice(providerPrefix.length));
      else await this.#handleAlert(key.slice(alertPrefix.length));
      return { type: "done" };
    } catch (err) {
      this.#o.log.error({ key, err: (err as Error).message }, "alert binding failed; retrying");
      return { type: "retry" };
    }
  }

  #handleProvider(key: string): void {
    const provider = this.#o.providers.cache.get(key);
    if (!provider) {
      this.#reported.delete(providerPrefix + key);
      this.#o.notifiers.drop(key);
    } else {
      try {
        this.#notifierFor(provider);
        this.#resolved(providerPrefix + key, provider, `Provider ${key} is valid`);
      } catch (err) {
        if (!(err instanceof ConfigProblem)) throw err;
        this.#problem(providerPrefix + key, provider, err.message);
      }
    }
    const [namespace, name] = key.split("/", 2) as [string, string];
    for (const alert of this.#o.alerts.cache.list(namespace)) {
      if (alert.spec.providerRef.name === name) this.#queue.add(alertPrefix + objectKey(alert));
    }
  }

  async #handleAlert(key: string): Promise<void> {
    const { pipeline } = this.#o;
    const alert = this.#o.alerts.cache.get(key);
    if (!alert) {
      this.#reported.delete(alertPrefix + key);
      pipeline.removeAlert(key);
      return;
    }
    let binding: Binding;
    try {
      binding = await this.#bindingFor(alert);
    } catch (err) {
      if (!(err instanceof ConfigProblem)) throw err;
      this.#problem(alertPrefix + key, alert, err.message);
      await pipeline.releaseAlert(key);
      return;
    }
    const fresh = !pipeline.has(key);
    await pipeline.setAlert(binding);
    if (fresh) this.#o.log.info({ alert: key, provider: binding.provider.key }, "alert bound");
    if (binding.cannotDeliver) this.#problem(alertPrefix + key, alert, binding.cannotDeliver);
    else this.#resolved(alertPrefix + key, alert, `Alert ${key} is bound to Provider ${binding.provider.key}`);
  }

  async #bindingFor(alert: AlertObject): Promise<Binding> {
    const namespace = alert.metadata.namespace ?? "";
    let compiled: ReturnType<typeof compileAlert>;
    try {
      compiled = compileAlert({ namespace, name: alert.metadata.name, spec: alert.spec });
    } catch (err) {
      throw new ConfigProblem(`failed to compile filters: ${(err as Error).message}`);
    }
    const foreign = alert.spec.eventSources.filter((s) => s.namespace && s.namespace !== namespace);
    if (this.#o.noCrossNamespaceRefs && foreign.length > 0) {
      throw new ConfigProblem(
        `cross-namespace references are not allowed: eventSources ${foreign.map((s) => `${s.kind}/${s.namespace}/${s.name}`).join(", ")}`,
      );
    }
    const providerKey = `${namespace}/${alert.spec.providerRef.name}`;
    const provider = this.#o.providers.cache.get(providerKey);
    if (!provider) throw new ConfigProblem(`Provider '${providerKey}' not found`);
    let cached: ReturnType<NotifierCache["get"]>;
    let cannotDeliver: string | undefined;
    try {
      cached = this.#notifierFor(provider);
    } catch (err) {
      if (!(err instanceof ConfigProblem)) throw err;
      if (!(err instanceof UnsupportedType)) {
        throw new ConfigProblem(`Provider '${providerKey}' cannot be used: ${err.message}`);
      }
      cached = { notifier: undeliverableNotifier(providerKey, err.providerType), secrets: [] };
      cannotDeliver = `Provider '${providerKey}' cannot be used: ${err.message}; every notification of this Alert is dropped`;
    }
    for (const kind of new Set(alert.spec.eventSources.map((s) => s.kind))) {
      if (this.#o.sources.isWatchable(kind)) await this.#o.sources.ensure(kind);
      else this.#o.log.info({ alert: objectKey(alert), kind }, "event source kind is not served by Capstan; ignored");
    }
    const suspended = alert.spec.suspend === true || provider.spec.suspend === true;
    return {
      identity: {
        apiVersion: alert.apiVersion,
        namespace,
        name: alert.metadata.name,
        uid: alert.metadata.uid ?? "",
        ...(alert.metadata.generation !== undefined ? { generation: alert.metadata.generation } : {}),
      },
      // A suspended Provider holds its Alerts' notifications the way a suspended Alert does.
      alert: suspended ? { ...compiled, spec: { ...compiled.spec, suspend: true } } : compiled,
      provider: {
        key: providerKey,
        // commitStatusExpr sees the Alert and the Provider; the wrapper hands them to the shared notifier per post.
        notifier: provider.spec.commitStatusExpr ? forAlert(cached.notifier, { alert, provider }) : cached.notifier,
        secrets: cached.secrets,
      },
      ...(cannotDeliver ? { cannotDeliver } : {}),
    };
  }

  #notifierFor(provider: ProviderObject): ReturnType<NotifierCache["get"]> {
    const read = (namespace: string, name: string) => {
      const secret = this.#o.secrets.cache.get(`${namespace}/${name}`);
      return secret ? decodeSecretStrings(secret.data) : undefined;
    };
    try {
      return this.#o.notifiers.get(objectKey(provider), resolveProvider(provider, read));
    } catch (err) {
      if (err instanceof UnsupportedProviderTypeError) throw new UnsupportedType(err.message, err.providerType);
      // ProviderResolutionError and ProviderConfigError: both say what to fix, neither carries a secret.
      throw new ConfigProblem((err as Error).message);
    }
  }

  #providersUsing(namespace: string, secret: string): ProviderObject[] {
    return this.#o.providers.cache.list(namespace).filter((p) => {
      const s = p.spec;
      return s.secretRef?.name === secret || s.certSecretRef?.name === secret || s.proxySecretRef?.name === secret;
    });
  }

  #problem(reportKey: string, obj: KubeObject, message: string): void {
    this.#o.log.error({ [obj.kind]: objectKey(obj), reason: AlertReasons.InvalidConfig }, message);
    if (this.#reported.get(reportKey) === message) return;
    this.#reported.set(reportKey, message);
    this.#o.events.event(obj, "Warning", AlertReasons.InvalidConfig, message);
  }

  /** After a reported problem is fixed, say so once (Normal), as a Ready condition turning True would. */
  #resolved(reportKey: string, obj: KubeObject, message: string): void {
    if (!this.#reported.has(reportKey)) return;
    this.#reported.delete(reportKey);
    this.#o.log.info({ [obj.kind]: objectKey(obj) }, message);
    this.#o.events.event(obj, "Normal", Reasons.Succeeded, message);
  }
}
