// One Notifier per Provider: validates the settings up front (a bad Provider is a condition, not a crash), then turns
// each event into the provider's request(s). The registry below has exactly one entry per type in `providerTypes`
// (the compiler checks it), so the list of supported types and the code that serves them cannot drift apart.
import { type FluxEvent, isProgressing } from "../events/event.js";
import { bitbucketRepo, bitbucketServerRepo, postBitbucketServerStatus, postBitbucketStatus } from "./bitbucket.js";
import { changeRequestCommenter, giteaPullRequestTarget, gitlabMergeRequestTarget } from "./change-request.js";
import {
  googleChatPayload,
  msteamsAdaptiveCardPayload,
  msteamsPayload,
  msteamsUsesConnector,
  telegramPayload,
} from "./chat.js";
import { commitStatusId, postCommitStatus } from "./commit-status.js";
import { type CommitStatusObjects, compileCommitStatusExpr } from "./commit-status-expr.js";
import { genericRequest, requireAddress } from "./generic.js";
import { giteaRepo, postGiteaStatus } from "./gitea.js";
import {
  createTransport,
  DeliveryError,
  type HttpRequest,
  type HttpTransport,
  jsonPost,
  sendExpectingSuccess,
  withEventId,
} from "./http.js";
import { alertmanagerRequest, opsgenieRequest, pagerDutyEndpoint, pagerDutyRequests } from "./incident.js";
import { datadogEventsUrl, datadogRequest, grafanaRequest } from "./observability.js";
import { isProviderType, ProviderConfigError, type ProviderSettings, type ProviderType } from "./settings.js";
import { discordPayload, discordUrl, rocketPayload, slackPayload } from "./slack.js";
import { smtpSender } from "./smtp.js";
import { UnsupportedProviderTypeError } from "./unsupported.js";

export interface Notifier {
  readonly type: string;
  /** `objects`: the Alert and Provider a commit status expression sees (commitStatusExpr); ignored otherwise. */
  post(event: FluxEvent, signal?: AbortSignal, objects?: CommitStatusObjects): Promise<void>;
  close(): Promise<void>;
}

/**
 * The notifier as one Alert uses it: every post carries that Alert and its Provider for commitStatusExpr. Closing it
 * does nothing; the shared notifier is closed by its owner.
 */
export function forAlert(notifier: Notifier, objects: CommitStatusObjects): Notifier {
  return {
    type: notifier.type,
    post: (event, signal, own) => notifier.post(event, signal, own ?? objects),
    close: async () => {},
  };
}

const telegramApi = "https://api.telegram.org";

/** Throws ProviderConfigError for an unknown type or settings that can never work. */
export function createNotifier(settings: ProviderSettings, transport?: HttpTransport): Notifier {
  const post = postFunction(settings);
  const http =
    transport ??
    createTransport({
      timeoutMs: settings.timeoutMs,
      ...(settings.caCert ? { caCert: settings.caCert } : {}),
      ...(settings.proxy ? { proxy: settings.proxy } : {}),
    });
  return {
    type: settings.type,
    // Every request a notifier makes carries the notification's idempotency key (Capstan): see withEventId.
    post: (event, signal, objects) => post(event, event.id ? withEventId(http, event.id) : http, signal, objects ?? {}),
    close: () => http.close(),
  };
}

type PostFn = (
  event: FluxEvent,
  http: HttpTransport,
  signal: AbortSignal | undefined,
  objects: CommitStatusObjects,
) => Promise<void>;
/** The commit status id of one notification: the default, or spec.commitStatusExpr evaluated. */
type StatusId = (event: FluxEvent, objects: CommitStatusObjects) => string;
type Factory = (s: ProviderSettings) => PostFn;

function postFunction(s: ProviderSettings): PostFn {
  if (!isProviderType(s.type)) throw new UnsupportedProviderTypeError(s.type);
  return registry[s.type](s);
}

/** A notifier that sends one request per event, built by `build` (undefined: nothing to send for this event). */
function single(build: (event: FluxEvent) => HttpRequest | undefined): PostFn {
  return async (event, http, signal) => {
    const request = build(event);
    if (request) await sendExpectingSuccess(http, request, signal);
  };
}

function requireRepoAddress(s: ProviderSettings): string {
  if (!s.address) throw new ProviderConfigError(`${s.type} provider has no repository address`);
  return s.address;
}

function requireToken(s: ProviderSettings): string {
  if (!s.token) throw new ProviderConfigError(`${s.type} provider needs a \`token\` in its secretRef`);
  return s.token;
}

function requireUid(s: ProviderSettings): string {
  if (!s.uid) throw new ProviderConfigError("provider UID cannot be empty");
  return s.uid;
}

/** Compiled once per notifier: an expression that does not compile makes the Provider invalid. */
function statusIdOf(s: ProviderSettings): StatusId {
  if (s.commitStatusExpr) return compileCommitStatusExpr(s.commitStatusExpr);
  return (event) => commitStatusId(s.uid, event);
}

const generic: Factory = (s) => {
  if (s.type === "generic-hmac" && !s.token) {
    throw new ProviderConfigError("generic-hmac provider needs a `token` in its secretRef");
  }
  requireAddress(s);
  return single((event) => genericRequest(event, s));
};

const commitStatus =
  (kind: "github" | "gitlab"): Factory =>
  (s) => {
    const statusId = statusIdOf(s);
    const address = requireRepoAddress(s);
    if (!s.token) throw new ProviderConfigError(`${kind} provider needs a \`token\` in its secretRef`);
    const token = s.token;
    return async (event, http, signal, objects) =>
      postCommitStatus(kind, event, { address, token, statusId: statusId(event, objects) }, http, signal);
  };

export const registry: { readonly [T in ProviderType]: Factory } = {
  generic,
  "generic-hmac": generic,
  slack: (s) => {
    const url = requireAddress(s);
    const auth: Record<string, string> = s.token ? { authorization: `Bearer ${s.token}` } : {};
    return async (event, http, signal) => {
      const payload = slackPayload(event, { channel: s.channel, username: s.username });
      const res = await sendExpectingSuccess(http, jsonPost(url, payload, auth), signal);
      // chat.postMessage answers 200 with {"ok":false} on failure; incoming webhooks use status codes.
      if (url === "https://slack.com/api/chat.postMessage") assertSlackOk(res.body);
    };
  },
  discord: (s) => {
    const url = discordUrl(requireAddress(s));
    return single((event) => jsonPost(url, discordPayload(event, { username: s.username })));
  },
  rocket: (s) => {
    const url = requireAddress(s);
    return single((event) => jsonPost(url, rocketPayload(event, { channel: s.channel, username: s.username })));
  },
  msteams: (s) => {
    const url = requireAddress(s);
    const payload = msteamsUsesConnector(url) ? msteamsPayload : msteamsAdaptiveCardPayload;
    return single((event) => jsonPost(url, payload(event)));
  },
  googlechat: (s) => {
    const url = requireAddress(s);
    return single((event) => (isProgressing(event) ? undefined : jsonPost(url, googleChatPayload(event))));
  },
  telegram: (s) => {
    if (!s.channel) throw new ProviderConfigError("empty Telegram channel");
    if (!s.token) throw new ProviderConfigError("empty Telegram token");
    // Capstan addition: spec.address, when set, replaces the Bot API origin (self-hosted Bot API servers, tests).
    const base = (s.address || telegramApi).replace(/\/+$/, "");
    const url = `${base}/bot${s.token}/sendMessage`;
    const channel = s.channel;
    return single((event) => jsonPost(url, telegramPayload(event, channel)));
  },
  github: commitStatus("github"),
  gitlab: commitStatus("gitlab"),
  gitea: (s) => {
    const statusId = statusIdOf(s);
    const repo = giteaRepo(requireRepoAddress(s), requireToken(s));
    return async (event, http, signal, objects) => postGiteaStatus(repo, statusId(event, objects), event, http, signal);
  },
  bitbucket: (s) => {
    const statusId = statusIdOf(s);
    const repo = bitbucketRepo(requireRepoAddress(s), requireToken(s));
    return async (event, http, signal, objects) =>
      postBitbucketStatus(repo, statusId(event, objects), event, http, signal);
  },
  bitbucketserver: (s) => {
    const statusId = statusIdOf(s);
    const repo = bitbucketServerRepo(requireRepoAddress(s), s);
    return async (event, http, signal, objects) =>
      postBitbucketServerStatus(repo, statusId(event, objects), event, http, signal);
  },
  giteapullrequestcomment: (s) => {
    const uid = requireUid(s);
    const target = giteaPullRequestTarget(giteaRepo(requireRepoAddress(s), requireToken(s)));
    return changeRequestCommenter(target, "flux-pr-comment-key", uid);
  },
  gitlabmergerequestcomment: (s) => {
    const uid = requireUid(s);
    const target = gitlabMergeRequestTarget(requireRepoAddress(s), requireToken(s));
    return changeRequestCommenter(target, "flux-mr-comment-key", uid);
  },
  opsgenie: (s) => {
    const url = requireAddress(s);
    if (!s.token) throw new ProviderConfigError("empty Opsgenie apikey/token");
    const apiKey = s.token;
    return single((event) => opsgenieRequest(url, apiKey, event));
  },
  pagerduty: (s) => {
    const endpoint = pagerDutyEndpoint(requireAddress(s));
    if (!s.channel) throw new ProviderConfigError("pagerduty provider needs the routing key in spec.channel");
    const routingKey = s.channel;
    return async (event, http, signal) => {
      // The incident first, then the change event: Flux sends them in this order and stops at the first failure.
      for (const request of pagerDutyRequests(endpoint, routingKey, event)) {
        await sendExpectingSuccess(http, request, signal);
      }
    };
  },
  alertmanager: (s) => {
    const url = requireAddress(s);
    const auth = { token: s.token, username: s.username, password: s.password };
    return single((event) => alertmanagerRequest(url, event, auth));
  },
  datadog: (s) => {
    if (!s.token) throw new ProviderConfigError("datadog provider needs the API key as `token` in its secretRef");
    const url = datadogEventsUrl(requireAddress(s));
    const apiKey = s.token;
    return single((event) => datadogRequest(url, apiKey, event));
  },
  grafana: (s) => {
    const url = requireAddress(s);
    const auth = { token: s.token, username: s.username, password: s.password };
    return single((event) => grafanaRequest(url, event, auth));
  },
  // Capstan addition: e-mail over SMTP; the HTTP transport goes unused.
  smtp: (s) => {
    const send = smtpSender(s);
    return (event, _http, signal) => send(event, signal);
  },
};

function assertSlackOk(body: string): void {
  let parsed: { ok?: boolean; error?: string };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch (cause) {
    throw new DeliveryError("unable to unmarshal Slack response body", false, 200, undefined, { cause });
  }
  if (!parsed.ok) throw new DeliveryError(`Slack responded with error: ${parsed.error ?? "unknown"}`, false, 200);
}
