// Alerting Provider types against a real HTTP server on loopback: the exact request Flux's notifier would send for a
// sample event, and what happens when the service answers with an error.
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../testing/fixtures.js";
import { useNotifierTests } from "../testing/notifiers.js";
import { type RecorderServer, type Responder, startRecorder } from "../testing/recorder.js";
import { msteamsUsesConnector } from "./chat.js";
import { createNotifier } from "./notifier.js";
import type { ProviderSettings } from "./settings.js";

const uid = "0d7c2f4e-aaaa-bbbb-cccc-ddddeeeeffff";
const revision = "main@sha1:0123456789abcdef0123456789abcdef01234567";
const t = useNotifierTests();
const { post, deliver } = t;

async function recorder(respond?: Responder): Promise<RecorderServer> {
  const r = await startRecorder(respond);
  t.closeAfter(() => r.close());
  return r;
}

function settings(s: Partial<ProviderSettings> & { type: string }): ProviderSettings {
  return { uid, timeoutMs: 2_000, ...s };
}

interface TextBlock {
  type: "TextBlock";
  text: string;
  [field: string]: unknown;
}

/** The parts of a Teams Workflows message a reader sees: the one Adaptive Card's title, message and facts. */
function adaptiveCard(body: string | undefined) {
  const message = JSON.parse(body ?? "") as {
    type: string;
    attachments: { contentType: string; content: { type: string; body: { items: unknown[] }[] } }[];
  };
  expect(message.type).toBe("message");
  expect(message.attachments).toHaveLength(1);
  const [attachment] = message.attachments;
  expect(attachment?.contentType).toBe("application/vnd.microsoft.card.adaptive");
  expect(attachment?.content.type).toBe("AdaptiveCard");
  const items = attachment?.content.body.flatMap((container) => container.items) ?? [];
  const blocks = items.filter((i): i is TextBlock => (i as TextBlock).type === "TextBlock");
  const factSet = items.find((i) => (i as { type: string }).type === "FactSet") as
    | { facts?: { title: string; value: string }[] }
    | undefined;
  return { title: blocks[0], message: blocks[1], facts: factSet?.facts };
}

describe("msteams", () => {
  it("Given a Workflows URL / should post an Adaptive Card message with summary first, then sorted facts", async () => {
    const teams = await recorder(() => ({ status: 202 }));
    const address = `${teams.url}/workflows/abc/triggers/manual/paths/invoke?sig=x`;
    const error = sampleEvent({ severity: "error", metadata: { summary: "prod", env: "eu", revision } });
    await post(settings({ type: "msteams", address }), error);
    await post(settings({ type: "msteams", address }), sampleEvent({ metadata: {} }));
    const [first, second] = teams.requests;
    expect(first?.method).toBe("POST");
    expect(first?.path).toBe("/workflows/abc/triggers/manual/paths/invoke?sig=x");
    expect(first?.headers["content-type"]).toBe("application/json");

    const failed = adaptiveCard(first?.body);
    expect(failed.title).toMatchObject({ text: "gitrepository/webapp.flux-system", weight: "bolder" });
    // An error shows its message in the attention colour; other severities in the default one.
    expect(failed.message).toEqual({ type: "TextBlock", text: error.message, color: "attention", wrap: true });
    expect(failed.facts).toEqual([
      { title: "summary", value: "prod" },
      { title: "env", value: "eu" },
      { title: "revision", value: revision },
    ]);
    const info = adaptiveCard(second?.body);
    expect(info.message).toEqual({ type: "TextBlock", text: sampleEvent().message, wrap: true });
    expect(info.facts).toBeUndefined();
  });

  it("Given the host of a legacy Office 365 connector / should choose the MessageCard format", () => {
    expect(msteamsUsesConnector("https://xyz.webhook.office.com/webhookb2/1/IncomingWebhook/2/3")).toBe(true);
    expect(msteamsUsesConnector("https://prod-01.westeurope.logic.azure.com:443/workflows/1")).toBe(false);
    expect(msteamsUsesConnector("https://webhook.office.com.evil.example/x")).toBe(false);
  });
});

describe("opsgenie", () => {
  it("Given an event / should post the alert with GenieKey auth and metadata plus severity as details", async () => {
    const og = await recorder(() => ({ status: 202, body: '{"result":"Request will be processed"}' }));
    await post(settings({ type: "opsgenie", address: `${og.url}/v2/alerts`, token: "og-key-123" }));
    const req = og.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe("/v2/alerts");
    expect(req?.headers.authorization).toBe("GenieKey og-key-123");
    expect(req?.body).toBe(
      JSON.stringify({
        message: "GitRepository/webapp",
        description: sampleEvent().message,
        details: { revision, severity: "info" },
      }),
    );
  });

  it("Given no token / should refuse the Provider", () => {
    expect(() => createNotifier(settings({ type: "opsgenie", address: "https://api.opsgenie.com/v2/alerts" }))).toThrow(
      /empty Opsgenie apikey\/token/,
    );
  });

  it("Given a 500 that echoes the key / should retry, then fail with a message that does not carry the key", async () => {
    const og = await recorder(() => ({ status: 500, body: "invalid key og-key-123" }));
    const outcome = await deliver(settings({ type: "opsgenie", address: `${og.url}/v2/alerts`, token: "og-key-123" }));
    expect(outcome.delivered).toBe(false);
    expect(outcome.attempts).toBe(3);
    expect(og.requests).toHaveLength(3);
    expect(outcome.error).toMatch(/status 500/);
    expect(outcome.error).not.toContain("og-key-123");
  });
});

describe("pagerduty", () => {
  const routingKey = "R0UT1NGKEY0123456789";

  it("Given an error event / should trigger an incident deduplicated by the object UID", async () => {
    const pd = await recorder(() => ({ status: 202 }));
    const event = sampleEvent({ severity: "error", reason: "HealthCheckFailed", message: "boom" });
    await post(settings({ type: "pagerduty", address: `${pd.url}/ignored/path`, channel: routingKey }), event);
    expect(pd.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /v2/enqueue"]);
    expect(pd.requests[0]?.body).toBe(
      JSON.stringify({
        routing_key: routingKey,
        event_action: "trigger",
        dedup_key: "cc4d0095-83f4-4f08-98f2-d2e9f3731fb9",
        payload: {
          summary: "health check failed: gitrepository/webapp",
          source: "Flux source-controller",
          severity: "error",
          timestamp: "2024-03-01T10:15:30Z",
          component: "webapp",
          group: "GitRepository",
          custom_details: { message: "boom", metadata: { revision } },
        },
      }),
    );
  });

  it("Given an info event / should resolve any open incident, then send a change event", async () => {
    const pd = await recorder(() => ({ status: 202 }));
    await post(settings({ type: "pagerduty", address: pd.url, channel: routingKey }));
    expect(pd.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /v2/enqueue", "POST /v2/change/enqueue"]);
    expect(JSON.parse(pd.requests[0]?.body ?? "")).toEqual({
      routing_key: routingKey,
      event_action: "resolve",
      dedup_key: "cc4d0095-83f4-4f08-98f2-d2e9f3731fb9",
    });
    expect(JSON.parse(pd.requests[1]?.body ?? "")).toEqual({
      routing_key: routingKey,
      payload: {
        source: "Flux source-controller",
        summary: "new artifact: gitrepository/webapp",
        timestamp: "2024-03-01T10:15:30Z",
        custom_details: { message: sampleEvent().message, metadata: { revision } },
      },
      links: null,
    });
  });

  it("Given a Progressing event / should send nothing", async () => {
    const pd = await recorder(() => ({ status: 202 }));
    await post(
      settings({ type: "pagerduty", address: pd.url, channel: routingKey }),
      sampleEvent({ reason: "Progressing" }),
    );
    expect(pd.requests).toHaveLength(0);
  });

  it("Given a 400 that echoes the routing key / should fail at once without the key in the message", async () => {
    const pd = await recorder(() => ({ status: 400, body: `{"status":"invalid event","message":"${routingKey}"}` }));
    const outcome = await deliver(settings({ type: "pagerduty", address: pd.url, channel: routingKey }));
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.error).toMatch(/status 400/);
    expect(outcome.error).not.toContain(routingKey);
  });
});

describe("alertmanager", () => {
  it("Given an event with a summary / should post one firing alert with labels, annotations and Go's zero endsAt", async () => {
    const am = await recorder(() => ({ status: 200 }));
    const event = sampleEvent({
      severity: "error",
      reason: "HealthCheckFailed",
      metadata: { revision, summary: "prod eu" },
    });
    await post(settings({ type: "alertmanager", address: `${am.url}/api/v2/alerts`, token: "am-token" }), event);
    const req = am.requests[0];
    expect(`${req?.method} ${req?.path}`).toBe("POST /api/v2/alerts");
    expect(req?.headers.authorization).toBe("Bearer am-token");
    expect(req?.body).toBe(
      JSON.stringify([
        {
          status: "firing",
          labels: {
            alertname: "FluxGitRepositoryHealthcheckfailed",
            kind: "GitRepository",
            name: "webapp",
            namespace: "flux-system",
            reason: "HealthCheckFailed",
            reportingcontroller: "source-controller",
            revision,
            severity: "error",
          },
          annotations: { message: event.message, summary: "prod eu" },
          startsAt: "2024-03-01T10:15:30Z",
          endsAt: "0001-01-01T00:00:00Z",
        },
      ]),
    );
  });

  it("Given username and password / should use basic auth", async () => {
    const am = await recorder(() => ({ status: 200 }));
    await post(settings({ type: "alertmanager", address: am.url, username: "am", password: "pw", token: "t0ken" }));
    expect(am.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from("am:pw").toString("base64")}`);
  });
});

describe("datadog", () => {
  it("Given an event / should post to /api/v1/events with DD-API-KEY, lowercased tags and the fluxcd source", async () => {
    const dd = await recorder(() => ({ status: 202, body: '{"status":"ok"}' }));
    const event = sampleEvent({ metadata: { revision, Env: "Prod" } });
    await post(settings({ type: "datadog", address: `${dd.url}/ignored`, token: "dd-api-key-1" }), event);
    const req = dd.requests[0];
    expect(`${req?.method} ${req?.path}`).toBe("POST /api/v1/events");
    expect(req?.headers["dd-api-key"]).toBe("dd-api-key-1");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.body).toBe(
      JSON.stringify({
        alert_type: "info",
        date_happened: 1709288130,
        source_type_name: "fluxcd",
        tags: [
          "flux_reporting_controller:source-controller",
          "flux_reason:newartifact",
          "kube_kind:gitrepository",
          "kube_name:webapp",
          "kube_namespace:flux-system",
          "env:prod",
          `revision:${revision}`,
        ],
        text: event.message,
        title: "Events from the GitRepository webapp/flux-system",
      }),
    );
  });

  it("Given a 403 that echoes the key / should fail without retrying and without the key", async () => {
    const dd = await recorder(() => ({ status: 403, body: '{"errors":["Forbidden dd-api-key-1"]}' }));
    const outcome = await deliver(settings({ type: "datadog", address: dd.url, token: "dd-api-key-1" }));
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.error).not.toContain("dd-api-key-1");
  });
});

describe("grafana", () => {
  it("Given a token / should post a Graphite annotation with Bearer auth and ':' in metadata replaced by '|'", async () => {
    const gf = await recorder(() => ({ status: 200, body: '{"message":"Annotation added"}' }));
    await post(
      settings({
        type: "grafana",
        address: `${gf.url}/api/annotations`,
        token: "glsa_token",
        username: "u",
        password: "p",
      }),
    );
    const req = gf.requests[0];
    expect(`${req?.method} ${req?.path}`).toBe("POST /api/annotations");
    expect(req?.headers.authorization).toBe("Bearer glsa_token");
    expect(req?.body).toBe(
      JSON.stringify({
        when: 1709288130,
        text: "gitrepository/webapp.flux-system",
        tags: [
          "flux",
          "source-controller",
          "revision: main@sha1|0123456789abcdef0123456789abcdef01234567",
          "kind: GitRepository",
          "name: webapp",
          "namespace: flux-system",
        ],
      }),
    );
  });

  it("Given only username and password / should use basic auth", async () => {
    const gf = await recorder(() => ({ status: 200 }));
    await post(settings({ type: "grafana", address: gf.url, username: "admin", password: "s3cret" }));
    expect(gf.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from("admin:s3cret").toString("base64")}`);
  });
});
