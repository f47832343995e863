import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeEvent, eventKey } from "../events/event.js";
import { sampleEvent } from "../testing/fixtures.js";
import { googleChatPayload, goTimeString, msteamsPayload, telegramEscape, telegramPayload } from "./chat.js";
import { genericRequest, hmacSignature } from "./generic.js";
import { discordUrl, rocketPayload, slackPayload } from "./slack.js";

const settings = { type: "generic", uid: "u", address: "https://hooks.example.com/flux", timeoutMs: 1000 };

describe("generic payload", () => {
  it("Given an event / should encode Flux's event JSON with Go's field order and omitempty", () => {
    const body = encodeEvent(sampleEvent());
    expect(body).toBe(
      '{"involvedObject":{"kind":"GitRepository","namespace":"flux-system","name":"webapp",' +
        '"uid":"cc4d0095-83f4-4f08-98f2-d2e9f3731fb9","apiVersion":"source.toolkit.fluxcd.io/v1","resourceVersion":"56921"},' +
        '"severity":"info","timestamp":"2024-03-01T10:15:30Z",' +
        `"message":"stored artifact for revision 'main@sha1:0123456789abcdef0123456789abcdef01234567'",` +
        '"reason":"NewArtifact","metadata":{"revision":"main@sha1:0123456789abcdef0123456789abcdef01234567"},' +
        '"reportingController":"source-controller","reportingInstance":"notification-controller-7f9c"}',
    );
  });

  it("Given no metadata and no reportingInstance / should omit both", () => {
    const { metadata: _m, reportingInstance: _r, ...rest } = sampleEvent();
    const parsed = JSON.parse(encodeEvent(rest));
    expect(Object.keys(parsed)).toEqual([
      "involvedObject",
      "severity",
      "timestamp",
      "message",
      "reason",
      "reportingController",
    ]);
  });

  it("Given a generic provider with headers / should post the event with gotk-component and the Secret's headers", () => {
    const req = genericRequest(sampleEvent(), { ...settings, headers: { "X-Team": "platform" } });
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://hooks.example.com/flux");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["gotk-component"]).toBe("source-controller");
    expect(req.headers["x-team"]).toBe("platform");
    expect(req.headers["x-signature"]).toBeUndefined();
    expect(req.body).toBe(encodeEvent(sampleEvent()));
  });

  it("Given generic-hmac / should sign the exact body with HMAC-SHA256 keyed by the token", () => {
    const req = genericRequest(sampleEvent(), { ...settings, type: "generic-hmac", token: "s3cr3t-token" });
    const expected = createHmac("sha256", "s3cr3t-token")
      .update(req.body as string)
      .digest("hex");
    expect(req.headers["x-signature"]).toBe(`sha256=${expected}`);
    expect(hmacSignature("abc", "key")).toBe("sha256=9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab");
  });

  it("Given generic-hmac without a token / should refuse the provider config", () => {
    expect(() => genericRequest(sampleEvent(), { ...settings, type: "generic-hmac" })).toThrow(/token/);
  });
});

describe("slack payload", () => {
  it("Given an info event / should build one 'good' attachment with author <kind>/<name>.<namespace> and metadata fields", () => {
    const payload = slackPayload(sampleEvent({ metadata: { revision: "main@sha1:abc", env: "prod" } }), {
      channel: "#flux",
      username: "flux-bot",
    });
    expect(payload).toEqual({
      channel: "#flux",
      username: "flux-bot",
      icon_url: "",
      icon_emoji: "",
      attachments: [
        {
          color: "good",
          author_name: "gitrepository/webapp.flux-system",
          text: sampleEvent().message,
          mrkdwn_in: ["text"],
          fields: [
            { title: "env", value: "prod", short: false },
            { title: "revision", value: "main@sha1:abc", short: false },
          ],
        },
      ],
    });
    expect(Object.keys(payload)).toEqual(["channel", "username", "icon_url", "icon_emoji", "attachments"]);
  });

  it("Given an error event and no username / should colour it 'danger' and use the reporting controller as username", () => {
    const payload = slackPayload(sampleEvent({ severity: "error" }), {});
    expect(payload.attachments?.[0]?.color).toBe("danger");
    expect(payload.username).toBe("source-controller");
    expect(payload.channel).toBe("");
  });

  it("Given a Discord webhook / should target its Slack-compatible endpoint once", () => {
    expect(discordUrl("https://discord.com/api/webhooks/1/abc")).toBe("https://discord.com/api/webhooks/1/abc/slack");
    expect(discordUrl("https://discord.com/api/webhooks/1/abc/slack")).toBe(
      "https://discord.com/api/webhooks/1/abc/slack",
    );
  });

  it("Given Rocket.Chat / should use its colours, icon and author", () => {
    const p = rocketPayload(sampleEvent({ severity: "error" }), { channel: "ops", username: "flux" });
    expect(p.icon_emoji).toBe(":rocket:");
    expect(p.attachments?.[0]?.color).toBe("#FF0000");
    expect(p.attachments?.[0]?.author_name).toBe("webapp.flux-system");
    expect(rocketPayload(sampleEvent(), {}).attachments?.[0]?.color).toBe("#0076D7");
  });
});

describe("chat payloads", () => {
  it("Given msteams / should build a MessageCard with facts and severity colour", () => {
    const p = msteamsPayload(sampleEvent({ severity: "error" }));
    expect(p).toEqual({
      "@type": "MessageCard",
      "@context": "http://schema.org/extensions",
      themeColor: "FF0000",
      summary: "gitrepository/webapp.flux-system",
      sections: [
        {
          activityTitle: sampleEvent().message,
          activitySubtitle: "gitrepository/webapp.flux-system",
          facts: [{ name: "revision", value: "main@sha1:0123456789abcdef0123456789abcdef01234567" }],
        },
      ],
    });
  });

  it("Given googlechat / should build a card with header, message and TIMESTAMP plus metadata key-values", () => {
    const p = googleChatPayload(sampleEvent({ severity: "error", message: "boom" }));
    const card = p.cards[0];
    expect(card?.header).toEqual({
      title: "gitrepository/webapp.flux-system",
      subtitle: "source-controller",
      imageUrl: null,
      imageStyle: null,
    });
    expect(card?.sections[0]?.widgets[0]?.textParagraph).toEqual({ text: '<font color="#ff0000">boom</font>' });
    expect(card?.sections[1]?.widgets.map((w) => [w.keyValue?.topLabel, w.keyValue?.content])).toEqual([
      ["TIMESTAMP", "2024-03-01 10:15:30 +0000 UTC"],
      ["revision", "main@sha1:0123456789abcdef0123456789abcdef01234567"],
    ]);
    expect(goTimeString("2024-03-01T10:15:30Z")).toBe("2024-03-01 10:15:30 +0000 UTC");
  });

  it("Given telegram / should escape MarkdownV2 and split chat id and thread", () => {
    expect(telegramEscape("a.b-c_d[e](f)!")).toBe("a\\.b\\-c\\_d\\[e\\]\\(f\\)\\!");
    const p = telegramPayload(sampleEvent({ message: "ok.", metadata: { env: "prod" } }), "-100123:42");
    expect(p).toEqual({
      chat_id: "-100123",
      message_thread_id: "42",
      text: "*💫 gitrepository/webapp/flux\\-system*\nok\\.\n\\- *env*: prod\n",
      parse_mode: "MarkdownV2",
    });
    expect(Object.keys(telegramPayload(sampleEvent(), "@chan"))).toEqual(["chat_id", "text", "parse_mode"]);
  });
});

describe("event key", () => {
  it("Given the same object, message and revision / should give the same key, and a different revision another", () => {
    const a = eventKey(sampleEvent());
    expect(eventKey(sampleEvent({ timestamp: "2030-01-01T00:00:00Z" }))).toBe(a);
    expect(eventKey(sampleEvent({ metadata: { revision: "main@sha1:ff" } }))).not.toBe(a);
    expect(eventKey(sampleEvent({ message: "other" }))).not.toBe(a);
  });
});
