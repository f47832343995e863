// One Notifier per Provider: validates the settings up front (a bad Provider is a condition, not a crash), then turns
// each event into the provider's request(s).
import type { FluxEvent } from "../event.js";
import { googleChatPayload, msteamsPayload, telegramPayload } from "./chat.js";
import { postCommitStatus } from "./commit-status.js";
import { genericRequest, requireAddress } from "./generic.js";
import {
  createTransport,
  DeliveryError,
  type HttpTransport,
  jsonPost,
  sendExpectingSuccess,
  withEventId,
} from "./http.js";
import { isProviderType, ProviderConfigError, type ProviderSettings } from "./settings.js";
import { discordPayload, discordUrl, rocketPayload, slackPayload } from "./slack.js";
import { UnsupportedProviderTypeError } from "./unsupported.js";

export interface Notifier {
  readonly type: string;
  post(event: FluxEvent, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
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
    post: (event, signal) => post(event, event.id ? withEventId(http, event.id) : http, signal),
    close: () => http.close(),
  };
}

type PostFn = (event: FluxEvent, http: HttpTransport, signal?: AbortSignal) => Promise<void>;

function postFunction(s: ProviderSettings): PostFn {
  if (!isProviderType(s.type)) throw new UnsupportedProviderTypeError(s.type);
  switch (s.type) {
    case "generic":
    case "generic-hmac":
      if (s.type === "generic-hmac" && !s.token) {
        throw new ProviderConfigError("generic-hmac provider needs a `token` in its secretRef");
      }
      requireAddress(s);
      return async (event, http, signal) => {
        await sendExpectingSuccess(http, genericRequest(event, s), signal);
      };
    case "slack": {
      const url = requireAddress(s);
      const auth: Record<string, string> = s.token ? { authorization: `Bearer ${s.token}` } : {};
      return async (event, http, signal) => {
        const payload = slackPayload(event, { channel: s.channel, username: s.username });
        const res = await sendExpectingSuccess(http, jsonPost(url, payload, auth), signal);
        // chat.postMessage answers 200 with {"ok":false} on failure; incoming webhooks use status codes.
        if (url === "https://slack.com/api/chat.postMessage") assertSlackOk(res.body);
      };
    }
    case "discord": {
      const url = discordUrl(requireAddress(s));
      return async (event, http, signal) => {
        await sendExpectingSuccess(http, jsonPost(url, discordPayload(event, { username: s.username })), signal);
      };
    }
    case "rocket": {
      const url = requireAddress(s);
      return async (event, http, signal) => {
        const payload = rocketPayload(event, { channel: s.channel, username: s.username });
        await sendExpectingSuccess(http, jsonPost(url, payload), signal);
      };
    }
    case "msteams": {
      const url = requireAddress(s);
      return async (event, http, signal) => {
        await sendExpectingSuccess(http, jsonPost(url, msteamsPayload(event)), signal);
      };
    }
    case "googlechat": {
      const url = requireAddress(s);
      return async (event, http, signal) => {
        if (event.reason === "Progressing") return;
        await sendExpectingSuccess(http, jsonPost(url, googleChatPayload(event)), signal);
      };
    }
    case "telegram": {
      if (!s.channel) throw new ProviderConfigError("empty Telegram channel");
      if (!s.token) throw new ProviderConfigError("empty Telegram token");
      // Capstan addition: spec.address, when set, replaces the Bot API origin (self-hosted Bot API servers, tests).
      const base = (s.address || telegramApi).replace(/\/+$/, "");
      const url = `${base}/bot${s.token}/sendMessage`;
      const channel = s.channel;
      return async (event, http, signal) => {
        await sendExpectingSuccess(http, jsonPost(url, telegramPayload(event, channel)), signal);
      };
    }
    case "github":
    case "gitlab": {
      const kind = s.type;
      const address = requireRepoAddress(s);
      if (!s.token) throw new ProviderConfigError(`${kind} provider needs a \`token\` in its secretRef`);
      const opts = { address, token: s.token, providerUid: s.uid };
      return (event, http, signal) => postCommitStatus(kind, event, opts, http, signal);
    }
  }
}

function requireRepoAddress(s: ProviderSettings): string {
  if (!s.address) throw new ProviderConfigError(`${s.type} provider has no repository address`);
  return s.address;
}

function assertSlackOk(body: string): void {
  let parsed: { ok?: boolean; error?: string };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch (cause) {
    throw new DeliveryError("unable to unmarshal Slack response body", false, 200, undefined, { cause });
  }
  if (!parsed.ok) throw new DeliveryError(`Slack responded with error: ${parsed.error ?? "unknown"}`, false, 200);
}
