// The Receiver's request handling, apart from Kubernetes: the backend finds the Receiver by path, reads its token and
// requests reconciliation of resources; this file decides status codes as Flux does (404 unknown path, 503 suspended
// or not ready, 400 invalid request or signature, 500 when a resource could not be annotated, 200 otherwise).
import { type ResourcePredicate, resourcePredicates } from "./filter.js";
import { constantTimeEqual, verifyHmacSignature } from "./signature.js";

export interface ResourceRef {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  matchLabels?: Record<string, string>;
  /** CEL over res and req (Flux's resources[].filter). */
  filter?: string;
}

export interface ReceiverView {
  namespace: string;
  name: string;
  type: string;
  events?: string[];
  resources: ResourceRef[];
  /** CEL over res and req applied to every resource (Flux's resourceFilter). */
  resourceFilter?: string;
  suspended: boolean;
  ready: boolean;
}

export interface ReconcileTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  /** A name, or "*" with matchLabels. */
  name: string;
  matchLabels?: Record<string, string>;
  /** When set, only the selected objects it accepts are annotated (the Receiver's CEL filters). */
  accept?: ResourcePredicate;
}

export interface ReceiverBackend {
  findByPath(path: string): Promise<ReceiverView | undefined>;
  /** The Receiver Secret's `token`; throws when missing (the message must not contain it). */
  token(receiver: ReceiverView): Promise<string>;
  /** Annotates the target(s) with reconcile.fluxcd.io/requestedAt; resolves to how many were annotated. */
  requestReconcile(receiver: ReceiverView, target: ReconcileTarget): Promise<number>;
}

export interface IncomingRequest {
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Set by the server when the body passed the cap (its remainder was discarded). */
  bodyTooLarge?: boolean;
}

export interface HandlerResult {
  status: number;
  /** For the log only: never contains the token or the body. */
  detail: string;
  annotated?: number;
}

export interface HandlerOptions {
  noCrossNamespaceRefs?: boolean;
  maxBodyBytes?: number;
}

export const defaultMaxBodyBytes = 3 * 1024 * 1024;

/** Kinds a Receiver may name without apiVersion, at the versions Flux assumes. */
export const defaultApiVersions: Record<string, string> = {
  Bucket: "source.toolkit.fluxcd.io/v1",
  HelmChart: "source.toolkit.fluxcd.io/v1",
  HelmRepository: "source.toolkit.fluxcd.io/v1",
  GitRepository: "source.toolkit.fluxcd.io/v1",
  OCIRepository: "source.toolkit.fluxcd.io/v1",
  ImageRepository: "image.toolkit.fluxcd.io/v1",
};

export const receiverTypes = [
  "generic",
  "generic-hmac",
  "github",
  "gitlab",
  "bitbucket",
  "harbor",
  "dockerhub",
  "quay",
] as const;

class InvalidRequest extends Error {}

function header(req: IncomingRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function checkEvent(receiver: ReceiverView, event: string | undefined, source: string): void {
  if (!receiver.events || receiver.events.length === 0) return;
  const e = (event ?? "").toLowerCase();
  if (!receiver.events.some((allowed) => allowed.toLowerCase() === e)) {
    throw new InvalidRequest(`the ${source} event "${event ?? ""}" is not authorised`);
  }
}

type Shape = "string" | "string[]" | { [key: string]: Shape };

function fits(value: unknown, shape: Shape): boolean {
  if (value === null || value === undefined) return true;
  if (shape === "string") return typeof value === "string";
  if (shape === "string[]") return Array.isArray(value) && value.every((v) => v === null || typeof v === "string");
  if (typeof value !== "object" || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  return Object.entries(shape).every(([k, s]) => fits(o[k], s));
}

/**
 * DockerHub and Quay send no signature (the Receiver's secret path is the secret): Flux only checks that the body
 * decodes as their payload (JSON whose known fields have the right types), and so does Capstan.
 */
function registryPayload(body: Buffer, source: string, shape: Shape): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new InvalidRequest(`cannot decode ${source} webhook payload`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !fits(parsed, shape)) {
    throw new InvalidRequest(`cannot decode ${source} webhook payload`);
  }
}

/** Returns "skip" for requests that are valid but ask for nothing (GitHub's ping). */
function validate(receiver: ReceiverView, req: IncomingRequest, token: string): "annotate" | "skip" {
  switch (receiver.type) {
    case "generic":
      return "annotate";
    case "generic-hmac":
      verifyHmacSignature(header(req, "x-signature"), req.body, token);
      return "annotate";
    case "github": {
      verifyHmacSignature(header(req, "x-hub-signature-256") ?? header(req, "x-hub-signature"), req.body, token);
      const event = header(req, "x-github-event");
      // Capstan: GitHub sends `ping` when a webhook is created; answer it even when `events` does not list it.
      if (event === "ping") return "skip";
      checkEvent(receiver, event, "GitHub");
      return "annotate";
    }
    case "gitlab":
      if (!constantTimeEqual(header(req, "x-gitlab-token"), token)) {
        throw new InvalidRequest("the X-Gitlab-Token header value does not match the receiver token");
      }
      checkEvent(receiver, header(req, "x-gitlab-event"), "GitLab");
      return "annotate";
    case "bitbucket":
      verifyHmacSignature(header(req, "x-hub-signature"), req.body, token);
      checkEvent(receiver, header(req, "x-event-key"), "Bitbucket server");
      return "annotate";
    case "harbor":
      if (!constantTimeEqual(header(req, "authorization"), token)) {
        throw new InvalidRequest("the Harbor Authorization header value does not match the receiver token");
      }
      return "annotate";
    case "dockerhub":
      registryPayload(req.body, "DockerHub", { push_data: { tag: "string" }, repository: { repo_url: "string" } });
      return "annotate";
    case "quay":
      registryPayload(req.body, "Quay", { docker_url: "string", updated_tags: "string[]" });
      return "annotate";
    default:
      throw new InvalidRequest(`receiver type "${receiver.type}" not supported`);
  }
}

export function targetFor(resource: ResourceRef, receiverNamespace: string, options: HandlerOptions): ReconcileTarget {
  const namespace = resource.namespace || receiverNamespace;
  if (options.noCrossNamespaceRefs && namespace !== receiverNamespace) {
    throw new Error("cross-namespace references are not allowed");
  }
  const apiVersion = resource.apiVersion || defaultApiVersions[resource.kind];
  if (!apiVersion) throw new Error(`apiVersion must be specified for kind "${resource.kind}"`);
  if (resource.name === "*" && !resource.matchLabels) {
    throw new Error("matchLabels field not set when using wildcard '*' as name");
  }
  return {
    apiVersion,
    kind: resource.kind,
    namespace,
    name: resource.name,
    ...(resource.matchLabels ? { matchLabels: resource.matchLabels } : {}),
  };
}

export async function handleReceiverRequest(
  req: IncomingRequest,
  backend: ReceiverBackend,
  options: HandlerOptions = {},
): Promise<HandlerResult> {
  let receiver: ReceiverView | undefined;
  try {
    receiver = await backend.findByPath(req.path);
  } catch (err) {
    return { status: 500, detail: `unable to list receivers: ${(err as Error).message}` };
  }
  if (!receiver) return { status: 404, detail: "no receiver for this path" };
  const who = `Receiver ${receiver.namespace}/${receiver.name}`;
  if (receiver.suspended || !receiver.ready) {
    return { status: 503, detail: `${who} is ${receiver.suspended ? "suspended" : "not ready"}` };
  }
  if (req.bodyTooLarge) {
    const max = options.maxBodyBytes ?? defaultMaxBodyBytes;
    return { status: 400, detail: `${who}: request body exceeds the maximum size of ${max} bytes` };
  }
  let action: "annotate" | "skip";
  try {
    const token = await backend.token(receiver);
    action = validate(receiver, req, token);
  } catch (err) {
    return { status: 400, detail: `${who}: unable to validate payload: ${(err as Error).message}` };
  }
  if (action === "skip") return { status: 200, detail: `${who}: ping`, annotated: 0 };
  let predicates: (ResourcePredicate | undefined)[];
  try {
    predicates = resourcePredicates(receiver, req.body, header(req, "content-type"));
  } catch (err) {
    return { status: 500, detail: `${who}: unable to create resource filters: ${(err as Error).message}` };
  }
  let annotated = 0;
  const errors: string[] = [];
  for (const [i, resource] of receiver.resources.entries()) {
    try {
      const target = targetFor(resource, receiver.namespace, options);
      const accept = predicates[i];
      if (accept) target.accept = accept;
      annotated += await backend.requestReconcile(receiver, target);
    } catch (err) {
      errors.push(`${resource.kind}/${resource.name}: ${(err as Error).message}`);
    }
  }
  if (errors.length > 0) {
    return { status: 500, detail: `${who}: unable to request reconciliation: ${errors.join("; ")}`, annotated };
  }
  return { status: 200, detail: `${who}: ${annotated} resource(s) annotated`, annotated };
}
