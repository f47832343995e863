// KubeClient: the Client contract over the Kubernetes REST API, with requests made here so that content types
// (apply-patch+yaml, merge-patch+json, PartialObjectMetadata) are under our control.
import type {
  ApplyOptions,
  Client,
  KubeObject,
  ListOptions,
  ObjectRef,
  ResourceType,
  WatchEventType,
} from "../contracts.js";
import type { CommonFlags } from "../flags/common.js";
import { type KubeConfigSource, type LoadedKubeConfig, loadKubeConfig } from "./config.js";
import { CredentialSource } from "./credentials.js";
import { type APIResourceList, Discovery } from "./discovery.js";
import { isGone, isNotFound } from "./errors.js";
import { type InlineKubeconfigOptions, parseInlineKubeconfig } from "./inline-kubeconfig.js";
import {
  collectionPath,
  describeObject,
  formatApiVersion,
  groupVersionPath,
  objectPath,
  queryString,
} from "./paths.js";
import { TokenBucket } from "./rate-limiter.js";
import {
  type FlowControl,
  type Impersonation,
  type RequestHook,
  Transport,
  type TransportRequest,
} from "./transport.js";
import { decodeWatchLine } from "./watch-events.js";

export interface KubeClientOptions extends KubeConfigSource {
  /** A kubeconfig already loaded (client-node's KubeConfig or loadKubeConfig's); takes precedence over kubeconfigPath. */
  kubeConfig?: LoadedKubeConfig;
  /** Client-side rate limit, requests per second (Flux default 50; 0 disables). */
  qps?: number;
  /** Client-side burst (Flux default 300). */
  burst?: number;
  userAgent?: string;
  /** Timeout of a non-watch request, socket idle time included. Default 60s. */
  requestTimeoutMs?: number;
  /** Page size of list() when the caller sets no limit. Default 500. */
  listPageSize?: number;
  /** Called once per API response (code 0 when the request failed without one): for benchmarks and metrics. */
  onRequest?: RequestHook;
  /** How retry waits (429 with Retry-After) wait; for tests. Must reject when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What the client knows about the server's flow control, and what its own rate limiter did. */
export interface FlowControlState {
  /** A response carried API Priority and Fairness headers: the server paces this client. */
  priorityAndFairness: boolean;
  /** The client-side token bucket limits requests (off once APF is seen, or with qps 0). */
  limiterEnabled: boolean;
  /** Requests that had to wait for a token, since the client was made. */
  throttledRequests: number;
}

/** Where the client reports, once, that it stopped limiting itself. */
export interface FlowControlLogger {
  info(obj: object, msg: string): void;
}

const apfDetectedMessage = "API Priority and Fairness detected: client-side rate limiting disabled";

const metadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const metadataAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

export class KubeClient implements Client {
  private readonly transport: Transport;
  private readonly discovery: Discovery;
  private readonly pageSize: number;
  private readonly limiter: TokenBucket;
  private readonly flow: FlowControl;
  private readonly closer: AbortController;
  private logger: FlowControlLogger | undefined;

  constructor(options: KubeClientOptions = {}, credentials?: CredentialSource) {
    this.limiter = new TokenBucket({ qps: options.qps ?? 50, burst: options.burst ?? 300 });
    this.closer = new AbortController();
    // Logged once; if it happens before a logger is set, setLogger() tells it.
    this.flow = { detected: false, onDetected: () => this.logger?.info({}, apfDetectedMessage) };
    this.transport = new Transport({
      credentials: credentials ?? new CredentialSource(options.kubeConfig ?? loadKubeConfig(options)),
      limiter: this.limiter,
      flowControl: this.flow,
      closed: this.closer.signal,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      userAgent: options.userAgent ?? "capstan",
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      onRequest: options.onRequest,
    });
    this.discovery = new Discovery((group, version) => this.fetchGroupVersion(group, version));
    this.pageSize = options.listPageSize ?? 500;
  }

  /** The client a controller's main builds from its common flags: --kubeconfig, --kube-api-qps, --kube-api-burst. */
  static fromFlags(flags: Pick<CommonFlags, "kubeconfig" | "kubeApiQps" | "kubeApiBurst">, userAgent: string) {
    return new KubeClient({
      ...(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {}),
      qps: flags.kubeApiQps,
      burst: flags.kubeApiBurst,
      userAgent,
    });
  }

  /**
   * A client for another cluster, from a kubeconfig's content that someone else wrote (spec.kubeConfig's Secret).
   * Only inline credentials are accepted: exec, auth-provider and file paths throw KubeconfigRefusedError naming the
   * field, and the text never reaches client-node (which would run the command or read the file).
   */
  static fromKubeconfig(
    yaml: string,
    options: Omit<KubeClientOptions, "kubeConfig" | "kubeconfigPath" | "context" | "env"> &
      InlineKubeconfigOptions = {},
  ) {
    const { allowInsecureTls, ...rest } = options;
    const inline = parseInlineKubeconfig(yaml, { allowInsecureTls: allowInsecureTls ?? false });
    return new KubeClient(rest, new CredentialSource(inline));
  }

  /**
   * A client that acts as `user` (Impersonate-User / Impersonate-Group): kustomize-controller applies as a
   * ServiceAccount this way. It shares this client's connections, rate limiter, discovery and request hook.
   */
  impersonate(impersonation: Impersonation): KubeClient {
    const derived = Object.create(KubeClient.prototype) as KubeClient;
    Object.assign(derived, {
      transport: this.transport.impersonating(impersonation),
      discovery: this.discovery,
      pageSize: this.pageSize,
      limiter: this.limiter,
      flow: this.flow,
      closer: this.closer,
      logger: this.logger,
    });
    return derived;
  }

  /** Closes idle connections and ends retry waits. Only the root client needs closing; derived clients share them. */
  close(): void {
    this.closer.abort();
    this.transport.close();
  }

  /** Where the one "API Priority and Fairness detected" line goes (the Manager sets its logger here). */
  setLogger(logger: FlowControlLogger): void {
    this.logger = logger;
    if (this.flow.detected) logger.info({}, apfDetectedMessage);
  }

  /** Whether the server paces this client (API Priority and Fairness) and what the client-side limiter did. */
  flowControl(): FlowControlState {
    return {
      priorityAndFairness: this.flow.detected,
      limiterEnabled: this.limiter.enabled,
      throttledRequests: this.limiter.throttledCount,
    };
  }

  resourceFor(apiVersion: string, kind: string): Promise<ResourceType> {
    return this.discovery.resourceFor(apiVersion, kind);
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const type = await this.resourceFor(ref.apiVersion, ref.kind);
    try {
      return await this.transport.json<T>({
        method: "GET",
        path: objectPath(type, ref.name, ref.namespace),
        verb: "get",
        resource: type.plural,
        action: `get ${describeObject(ref.kind, ref.name, ref.namespace)}`,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Lists. With `limit`, returns one page and its continue token. Without, pages through everything (listPageSize at a time,
   * one consistent snapshot) and returns it all; if the snapshot expires mid-way (410), lists again in one request.
   */
  async list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    options: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string; continue?: string }> {
    if (options.limit !== undefined) return this.listPage<T>(type, options);
    const items: T[] = [];
    let page = await this.listPage<T>(type, { ...options, limit: this.pageSize });
    const resourceVersion = page.resourceVersion;
    items.push(...page.items);
    while (page.continue) {
      try {
        page = await this.listPage<T>(type, { ...options, limit: this.pageSize, continue: page.continue });
      } catch (err) {
        if (!isGone(err)) throw err;
        return this.listPage<T>(type, { ...options, limit: undefined, continue: undefined });
      }
      items.push(...page.items);
    }
    return { items, resourceVersion };
  }

  async apply<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T> {
    return this.applyTo<T>(obj, options, undefined);
  }

  async applyStatus<T extends KubeObject = KubeObject>(obj: KubeObject, options: ApplyOptions): Promise<T> {
    return this.applyTo<T>(obj, options, "status");
  }

  async mergePatch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    options: { fieldManager?: string } = {},
  ): Promise<T> {
    const type = await this.resourceFor(ref.apiVersion, ref.kind);
    return this.transport.json<T>({
      method: "PATCH",
      path: objectPath(type, ref.name, ref.namespace) + queryString({ fieldManager: options.fieldManager }),
      verb: "patch",
      resource: type.plural,
      action: `patch ${describeObject(ref.kind, ref.name, ref.namespace)}`,
      body: JSON.stringify(patch),
      contentType: "application/merge-patch+json",
    });
  }

  async create<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    options: { fieldManager?: string; dryRun?: boolean } = {},
  ): Promise<T> {
    const type = await this.resourceFor(obj.apiVersion, obj.kind);
    const { name, namespace } = obj.metadata;
    if (type.namespaced && !namespace) throw new Error(`create ${describeObject(obj.kind, name)}: namespace required`);
    return this.transport.json<T>({
      method: "POST",
      path:
        collectionPath(type, namespace) +
        queryString({ fieldManager: options.fieldManager, dryRun: options.dryRun ? "All" : undefined }),
      verb: "create",
      resource: type.plural,
      action: `create ${describeObject(obj.kind, name || (obj.metadata.generateName as string) || "", namespace)}`,
      body: JSON.stringify(obj),
    });
  }

  async delete(
    ref: ObjectRef,
    options: { propagationPolicy?: "Background" | "Foreground" | "Orphan" } = {},
  ): Promise<boolean> {
    const type = await this.resourceFor(ref.apiVersion, ref.kind);
    try {
      await this.transport.json({
        method: "DELETE",
        path: objectPath(type, ref.name, ref.namespace),
        verb: "delete",
        resource: type.plural,
        action: `delete ${describeObject(ref.kind, ref.name, ref.namespace)}`,
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "DeleteOptions",
          ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
        }),
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Streams watch events. The returned promise resolves once the stream is open or has failed; every failure
   * (HTTP 410 included, and a watch ERROR event, decoded as ApiError) goes to onDone, which is called exactly once.
   * With metadataOnly, objects are PartialObjectMetadata relabelled with the watched type's apiVersion and kind.
   */
  async watch(
    type: ResourceType,
    options: ListOptions & { allowWatchBookmarks?: boolean; timeoutSeconds?: number },
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
    onDone: (err?: Error) => void,
  ): Promise<{ stop(): void }> {
    const action = `watch ${type.kind}${options.namespace ? ` in ${options.namespace}` : ""}`;
    let failed: Error | undefined;
    const stop = await this.transport.lines(
      {
        method: "GET",
        path:
          collectionPath(type, options.namespace) +
          queryString({
            watch: true,
            resourceVersion: options.resourceVersion,
            allowWatchBookmarks: options.allowWatchBookmarks,
            timeoutSeconds: options.timeoutSeconds,
            labelSelector: options.labelSelector,
            fieldSelector: options.fieldSelector,
          }),
        verb: "watch",
        resource: type.plural,
        action,
        accept: options.metadataOnly ? metadataAccept : "application/json",
      },
      (line, stopStream) => {
        if (failed) return;
        const decoded = decodeWatchLine(line, action);
        if (decoded.kind === "event") {
          onEvent(decoded.type, options.metadataOnly ? relabel(decoded.object, type) : decoded.object);
          return;
        }
        failed = decoded.kind === "error" ? decoded.error : new Error(`${action}: ${decoded.detail}`);
        // An ERROR event ends the watch: the server closes it too, but do not wait for that.
        stopStream();
      },
      (err) => onDone(err ?? failed),
    );
    return { stop: () => stop() };
  }

  private async listPage<T extends KubeObject>(
    type: ResourceType,
    options: ListOptions,
  ): Promise<{ items: T[]; resourceVersion: string; continue?: string }> {
    const res = await this.transport.json<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>({
      method: "GET",
      path:
        collectionPath(type, options.namespace) +
        queryString({
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          resourceVersion: options.resourceVersion,
          limit: options.limit,
          continue: options.continue,
        }),
      verb: "list",
      resource: type.plural,
      action: `list ${type.kind}${options.namespace ? ` in ${options.namespace}` : ""}`,
      accept: options.metadataOnly ? metadataListAccept : "application/json",
    });
    const items = (res.items ?? []).map((item) => (options.metadataOnly ? relabel(item, type) : withKind(item, type)));
    return {
      items: items as T[],
      resourceVersion: res.metadata?.resourceVersion ?? "",
      ...(res.metadata?.continue ? { continue: res.metadata.continue } : {}),
    };
  }

  private async applyTo<T extends KubeObject>(
    obj: KubeObject,
    options: ApplyOptions,
    subresource: "status" | undefined,
  ): Promise<T> {
    const { name, namespace } = obj.metadata;
    const what = describeObject(obj.kind, name, namespace);
    const action = subresource ? `apply status of ${what}` : `apply ${what}`;
    const type = await this.resourceFor(obj.apiVersion, obj.kind);
    if (type.namespaced && !namespace) throw new Error(`${action}: ${obj.kind} is namespaced, namespace required`);
    // The apiserver refuses an apply that carries managedFields; what a caller read back often does.
    const { managedFields: _dropped, ...metadata } = obj.metadata;
    const req: TransportRequest = {
      method: "PATCH",
      path:
        objectPath(type, name, namespace, subresource) +
        queryString({
          fieldManager: options.fieldManager,
          force: options.force ? true : undefined,
          dryRun: options.dryRun ? "All" : undefined,
        }),
      verb: "apply",
      resource: subresource ? `${type.plural}/${subresource}` : type.plural,
      action,
      // JSON is YAML: the apply-patch+yaml content type accepts it as it is.
      body: JSON.stringify({ ...obj, metadata }),
      contentType: "application/apply-patch+yaml",
    };
    return this.transport.json<T>(req);
  }

  private async fetchGroupVersion(group: string, version: string): Promise<APIResourceList | undefined> {
    try {
      return await this.transport.json<APIResourceList>({
        method: "GET",
        path: groupVersionPath(group, version),
        verb: "discovery",
        resource: "",
        action: `discover ${formatApiVersion(group, version)}`,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

// List items carry no apiVersion/kind on the wire; put them back so every object the client returns is complete.
function withKind<T extends KubeObject>(item: T, type: ResourceType): T {
  if (item.apiVersion && item.kind) return item;
  return { ...item, apiVersion: formatApiVersion(type.group, type.version), kind: type.kind };
}

function relabel<T extends KubeObject>(item: T, type: ResourceType): T {
  return { ...item, apiVersion: formatApiVersion(type.group, type.version), kind: type.kind };
}
