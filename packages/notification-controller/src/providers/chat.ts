// Microsoft Teams (MessageCard), Google Chat (cards) and Telegram (Bot API sendMessage, MarkdownV2) payloads.
import { type FluxEvent, sortedEntries } from "../events/event.js";
import { objectTitle } from "./slack.js";

export function msteamsPayload(event: FluxEvent) {
  const title = objectTitle(event);
  return {
    "@type": "MessageCard",
    "@context": "http://schema.org/extensions",
    themeColor: event.severity === "error" ? "FF0000" : "0076D7",
    summary: title,
    sections: [
      {
        activityTitle: event.message,
        activitySubtitle: title,
        facts: sortedEntries(event.metadata).map(([name, value]) => ({ name, value })),
      },
    ],
  };
}

/** Go's time.Time.String() for a UTC time: "2006-01-02 15:04:05 +0000 UTC". */
export function goTimeString(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

export function googleChatPayload(event: FluxEvent) {
  const keyValue = (topLabel: string, content: string) => ({
    textParagraph: null,
    keyValue: { topLabel, content, contentMultiline: false, bottomLabel: null, icon: null },
  });
  const message = event.severity === "error" ? `<font color="#ff0000">${event.message}</font>` : event.message;
  return {
    cards: [
      {
        header: {
          title: objectTitle(event),
          subtitle: event.reportingController,
          imageUrl: null,
          imageStyle: null,
        },
        sections: [
          { header: "", widgets: [{ textParagraph: { text: message }, keyValue: null }] },
          {
            header: "",
            widgets: [
              keyValue("TIMESTAMP", goTimeString(event.timestamp)),
              ...sortedEntries(event.metadata).map(([k, v]) => keyValue(k, v)),
            ],
          },
        ],
      },
    ],
  };
}

/** Telegram's MarkdownV2 reserves these characters; each must be escaped with a backslash. */
export function telegramEscape(text: string): string {
  return text.replace(/[\\.\-_[\]()~>`#+=|{}!*]/g, (c) => `\\${c}`);
}

export function telegramPayload(event: FluxEvent, channel: string) {
  const o = event.involvedObject;
  const emoji = event.severity === "error" ? "🚨" : "💫";
  const heading = `${emoji} ${o.kind.toLowerCase()}/${o.name}/${o.namespace ?? ""}`;
  const metadata = sortedEntries(event.metadata)
    .map(([k, v]) => `\\- *${telegramEscape(k)}*: ${telegramEscape(v)}\n`)
    .join("");
  const text = `*${telegramEscape(heading)}*\n${telegramEscape(event.message)}\n${metadata}`;
  const sep = channel.indexOf(":");
  const payload: { chat_id: string; message_thread_id?: string; text: string; parse_mode: string } = {
    chat_id: sep >= 0 ? channel.slice(0, sep) : channel,
    text,
    parse_mode: "MarkdownV2",
  };
  if (sep >= 0) {
    // Keep Go's field order: chat_id, message_thread_id, text, parse_mode.
    return { chat_id: payload.chat_id, message_thread_id: channel.slice(sep + 1), text, parse_mode: "MarkdownV2" };
  }
  return payload;
}

/**
 * Flux picks the format from the address: a host ending in `.webhook.office.com` is a legacy Office 365 connector
 * (MessageCard); anything else (Power Automate Workflows, `*.logic.azure.com`) gets an Adaptive Card message.
 */
export function msteamsUsesConnector(address: string): boolean {
  try {
    return new URL(address).hostname.toLowerCase().endsWith(".webhook.office.com");
  } catch {
    return false;
  }
}

export function msteamsAdaptiveCardPayload(event: FluxEvent) {
  const title = objectTitle(event);
  const message: { type: string; text: string; color?: string; wrap: boolean } =
    event.severity === "error"
      ? { type: "TextBlock", text: event.message, color: "attention", wrap: true }
      : { type: "TextBlock", text: event.message, wrap: true };
  // `summary` first, then the other metadata sorted by key.
  const facts = sortedEntries(event.metadata)
    .sort(([a], [b]) => (a === "summary" ? -1 : b === "summary" ? 1 : 0))
    .map(([title, value]) => ({ title, value }));
  const factSet: { type: string; facts?: { title: string; value: string }[] } = { type: "FactSet" };
  if (facts.length > 0) factSet.facts = facts;
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            {
              type: "Container",
              items: [
                { type: "TextBlock", text: title, size: "large", weight: "bolder", wrap: true },
                message,
                factSet,
              ],
            },
          ],
          msteams: { width: "Full" },
        },
      },
    ],
  };
}
