// API errors, decoded from the apiserver's Status body into something a controller can branch on and a user can read.
import type { ApiErrorShape } from "../contracts.js";

/** One entry of Status.details.causes: usually a field path and what is wrong with it. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface ApiErrorInit {
  status: number;
  reason: string;
  /** The server's message (never a request body). */
  serverMessage: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * An error from the API server. The message says what was attempted and why it failed, for example
 * `apply Deployment/apps/web: Invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
 */
export class ApiError extends Error implements ApiErrorShape {
  readonly status: number;
  readonly reason: string;
  readonly serverMessage: string;
  readonly causes: StatusCause[];
  readonly retryAfterSeconds: number | undefined;

  constructor(action: string, init: ApiErrorInit) {
    super(`${action}: ${init.reason}: ${describe(init)}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ApiError";
    this.status = init.status;
    this.reason = init.reason;
    this.serverMessage = init.serverMessage;
    this.causes = init.causes ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

function describe(init: ApiErrorInit): string {
  const fieldCauses = (init.causes ?? []).filter((c) => c.message);
  if (fieldCauses.length > 0) {
    return fieldCauses.map((c) => (c.field ? `${c.field}: ${c.message}` : (c.message ?? ""))).join("; ");
  }
  return init.serverMessage || `HTTP ${init.status}`;
}

// The reasons client-go infers when a response carries no Status (a proxy's HTML page, an empty body).
const reasonForCode: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Gone",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

interface StatusBody {
  kind?: unknown;
  reason?: unknown;
  message?: unknown;
  code?: unknown;
  details?: { causes?: unknown; retryAfterSeconds?: unknown };
}

/** Decodes a failed response. `body` is the response body (a Status when the apiserver answered). */
export function decodeApiError(
  action: string,
  status: number,
  body: string,
  retryAfterHeader?: string,
  cause?: unknown,
): ApiError {
  let parsed: StatusBody | undefined;
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === "object" && (value as StatusBody).kind === "Status") parsed = value as StatusBody;
  } catch {
    parsed = undefined;
  }
  return statusToError(action, status, parsed, retryAfterHeader, body, cause);
}

/** Decodes a Status object (as found in a watch ERROR event). */
export function statusObjectToError(action: string, statusObject: unknown): ApiError {
  const s = (statusObject && typeof statusObject === "object" ? statusObject : {}) as StatusBody;
  const code = typeof s.code === "number" ? s.code : 500;
  return statusToError(action, code, s, undefined, "");
}

function statusToError(
  action: string,
  status: number,
  s: StatusBody | undefined,
  retryAfterHeader: string | undefined,
  rawBody: string,
  cause?: unknown,
): ApiError {
  const reason =
    typeof s?.reason === "string" && s.reason !== "" ? s.reason : (reasonForCode[status] ?? `HTTP${status}`);
  const serverMessage = typeof s?.message === "string" ? s.message : summarizeForeignBody(rawBody);
  const causes = Array.isArray(s?.details?.causes)
    ? (s.details.causes as unknown[]).flatMap((c) => (c && typeof c === "object" ? [pickCause(c)] : []))
    : [];
  const retryAfter =
    typeof s?.details?.retryAfterSeconds === "number"
      ? s.details.retryAfterSeconds
      : retryAfterHeader && /^\d+$/.test(retryAfterHeader)
        ? Number(retryAfterHeader)
        : undefined;
  return new ApiError(action, {
    status,
    reason,
    serverMessage,
    causes,
    cause,
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}

function pickCause(c: object): StatusCause {
  const r = c as Record<string, unknown>;
  const out: StatusCause = {};
  if (typeof r.reason === "string") out.reason = r.reason;
  if (typeof r.message === "string") out.message = r.message;
  if (typeof r.field === "string") out.field = r.field;
  return out;
}

// A body that is not a Status comes from something in front of the apiserver; keep a short, single-line hint.
function summarizeForeignBody(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function reasonOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as Partial<ApiErrorShape>).reason : undefined;
}

export const isNotFound = (err: unknown): boolean => reasonOf(err) === "NotFound";
export const isConflict = (err: unknown): boolean => reasonOf(err) === "Conflict";
export const isAlreadyExists = (err: unknown): boolean => reasonOf(err) === "AlreadyExists";
export const isForbidden = (err: unknown): boolean => reasonOf(err) === "Forbidden";
export const isInvalid = (err: unknown): boolean => reasonOf(err) === "Invalid";
/** No such kind in that apiVersion (a CRD not installed yet), from discovery. */
export const isNoKindMatch = (err: unknown): boolean => reasonOf(err) === "NoKindMatch";
/** 410: the resourceVersion is too old (watch) or a continue token expired (list). */
export const isGone = (err: unknown): boolean => err instanceof Error && (err as Partial<ApiErrorShape>).status === 410;
