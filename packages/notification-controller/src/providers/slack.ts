// Slack's attachment payload, which Discord (through its /slack-compatible endpoint) and Rocket.Chat accept too.
import { type FluxEvent, sortedEntries } from "../events/event.js";

export interface SlackField {
  title: string;
  value: string;
  short: boolean;
}

export interface SlackAttachment {
  color: string;
  author_name: string;
  text: string;
  mrkdwn_in: string[];
  fields: SlackField[];
}

export interface SlackPayload {
  channel: string;
  username: string;
  icon_url: string;
  icon_emoji: string;
  text?: string;
  attachments?: SlackAttachment[];
}

export function objectTitle(event: FluxEvent): string {
  const o = event.involvedObject;
  return `${o.kind.toLowerCase()}/${o.name}.${o.namespace ?? ""}`;
}

function fields(event: FluxEvent): SlackField[] {
  return sortedEntries(event.metadata).map(([title, value]) => ({ title, value, short: false }));
}

export function slackPayload(event: FluxEvent, opts: { channel?: string; username?: string }): SlackPayload {
  return {
    channel: opts.channel ?? "",
    username: opts.username || event.reportingController,
    icon_url: "",
    icon_emoji: "",
    attachments: [
      {
        color: event.severity === "error" ? "danger" : "good",
        author_name: objectTitle(event),
        text: event.message,
        mrkdwn_in: ["text"],
        fields: fields(event),
      },
    ],
  };
}

/** Discord takes Slack payloads on `<webhook>/slack`; the channel is fixed by the webhook. */
export function discordPayload(event: FluxEvent, opts: { username?: string }): SlackPayload {
  return slackPayload(event, { username: opts.username });
}

export function discordUrl(address: string): string {
  if (address.endsWith("/slack")) return address;
  const u = new URL(address);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/slack`;
  return u.toString();
}

export function rocketPayload(event: FluxEvent, opts: { channel?: string; username?: string }): SlackPayload {
  const o = event.involvedObject;
  return {
    channel: opts.channel ?? "",
    username: opts.username ?? "",
    icon_url: "",
    icon_emoji: ":rocket:",
    attachments: [
      {
        color: event.severity === "error" ? "#FF0000" : "#0076D7",
        author_name: `${o.name}.${o.namespace ?? ""}`,
        text: event.message,
        mrkdwn_in: ["text"],
        fields: fields(event),
      },
    ],
  };
}
