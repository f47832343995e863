// The smtp Provider (Capstan) against a tiny SMTP server on loopback: the whole conversation, TLS, both AUTH
// mechanisms, dot-stuffing, and the failures a mail server can produce.
import { networkInterfaces } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import type { FluxEvent } from "../events/event.js";
import { sampleEvent } from "../testing/fixtures.js";
import { useNotifierTests } from "../testing/notifiers.js";
import { type SmtpServerOptions, selfSignedCert, startSmtpServer, type TestCert } from "../testing/smtp-server.js";
import { createNotifier } from "./notifier.js";
import type { ProviderSettings } from "./settings.js";
import { mailMessage, parseRecipients, quotedPrintable, smtpConfig } from "./smtp.js";
import { dotStuff, SmtpError } from "./smtp-client.js";

const password = "pa55-w0rd-secret";
let cert: TestCert;
const t = useNotifierTests();
const post = t.post;
const deliver = (s: ProviderSettings, event?: FluxEvent) => t.deliver(s, event, { providerKey: "ns/mail" });
beforeAll(() => {
  cert = selfSignedCert();
});

async function server(options: SmtpServerOptions) {
  const s = await startSmtpServer(options);
  t.closeAfter(() => s.close());
  return s;
}

function settings(s: Partial<ProviderSettings>): ProviderSettings {
  return { type: "smtp", uid: "u", timeoutMs: 3_000, channel: "ops@example.com, oncall@example.com", ...s };
}

/** Undoes dot-stuffing and quoted-printable: the text a mail client would show. */
function decodeBody(raw: string[]): { headers: string[]; text: string } {
  const lines = raw.map((l) => (l.startsWith(".") ? l.slice(1) : l));
  const blank = lines.indexOf("");
  const body = lines
    .slice(blank + 1)
    .join("\r\n")
    .replace(/=\r\n/g, "");
  const bytes = Buffer.from(
    body.replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    "latin1",
  );
  return { headers: lines.slice(0, blank), text: bytes.toString("utf8").replace(/\r\n/g, "\n") };
}

describe("smtp provider", () => {
  it("Given a server offering STARTTLS and AUTH PLAIN / should upgrade, authenticate over TLS and send the mail", async () => {
    const smtp = await server({
      starttls: cert,
      auth: ["PLAIN", "LOGIN"],
      credentials: { username: "flux@example.com", password },
    });
    const event = sampleEvent({
      severity: "error",
      reason: "BuildFailed",
      message: "kustomize build failed:\n.hidden line",
    });
    await post(
      settings({
        address: `smtp://127.0.0.1:${smtp.port}`,
        username: "flux@example.com",
        password,
        caCert: cert.cert,
      }),
      event,
    );
    const mail = smtp.sessions[0];
    const verbs = mail?.commands.map((c) => c.split(" ")[0]);
    expect(verbs).toEqual(["EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"]);
    const authAt = mail?.commands.findIndex((c) => c.startsWith("AUTH")) ?? -1;
    expect(mail?.secureAt[authAt]).toBe(true);
    expect(mail?.authenticated).toEqual({ username: "flux@example.com", password });
    expect(mail?.commands).toContain("MAIL FROM:<flux@example.com>");
    expect(mail?.commands.filter((c) => c.startsWith("RCPT"))).toEqual([
      "RCPT TO:<ops@example.com>",
      "RCPT TO:<oncall@example.com>",
    ]);
    // Dot-stuffing: the line that starts with a dot went over the wire with two.
    expect(mail?.rawData).toContain("..hidden line");
    const { headers, text } = decodeBody(mail?.rawData ?? []);
    expect(headers).toContain("From: flux@example.com");
    expect(headers).toContain("To: ops@example.com, oncall@example.com");
    expect(headers).toContain("Subject: [Flux] error gitrepository/webapp.flux-system: BuildFailed");
    expect(headers).toContain("Content-Type: text/plain; charset=utf-8");
    expect(headers).toContain("Content-Transfer-Encoding: quoted-printable");
    expect(text).toBe(
      "GitRepository/flux-system/webapp\nseverity: error\nreason: BuildFailed\ncontroller: source-controller\n" +
        "time: 2024-03-01T10:15:30Z\n\nkustomize build failed:\n.hidden line\n\nmetadata:\n" +
        "  revision: main@sha1:0123456789abcdef0123456789abcdef01234567\n",
    );
  });

  it("Given only AUTH LOGIN on a loopback server without TLS / should log in step by step with a `from` key", async () => {
    const smtp = await server({ auth: ["LOGIN"], credentials: { username: "relay-user", password } });
    await post(
      settings({
        address: `smtp://localhost:${smtp.port}`,
        username: "relay-user",
        password,
        from: "flux@example.com",
        channel: "ops@example.com",
      }),
    );
    const mail = smtp.sessions[0];
    expect(mail?.commands.slice(0, 4)).toEqual([
      mail?.commands[0],
      "AUTH LOGIN",
      Buffer.from("relay-user").toString("base64"),
      Buffer.from(password).toString("base64"),
    ]);
    expect(mail?.authenticated?.username).toBe("relay-user");
    expect(mail?.commands).toContain("MAIL FROM:<flux@example.com>");
  });

  it("Given an smtps:// address / should speak TLS from the first byte", async () => {
    const smtp = await server({ implicitTls: cert });
    await post(settings({ address: `smtps://127.0.0.1:${smtp.port}`, from: "flux@example.com", caCert: cert.cert }));
    expect(smtp.sessions[0]?.secureAt.every(Boolean)).toBe(true);
    expect(smtp.sessions[0]?.commands.at(-1)).toBe("QUIT");
  });

  it("Given a certificate the Provider does not trust / should fail the handshake and send no credentials", async () => {
    const smtp = await server({
      starttls: cert,
      auth: ["PLAIN"],
      credentials: { username: "u@example.com", password },
    });
    const outcome = await deliver(
      settings({ address: `smtp://127.0.0.1:${smtp.port}`, username: "u@example.com", password }),
    );
    expect(outcome.delivered).toBe(false);
    expect(outcome.error).toMatch(/TLS handshake failed/);
    expect(smtp.sessions.every((s) => !s.commands.some((c) => c.startsWith("AUTH")))).toBe(true);
  });

  it("Given a wrong password echoed by the server / should fail at once with a message without the password", async () => {
    const smtp = await server({ auth: ["PLAIN"], credentials: { username: "flux@example.com", password: "other" } });
    const outcome = await deliver(
      settings({ address: `smtp://127.0.0.1:${smtp.port}`, username: "flux@example.com", password }),
    );
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.error).toMatch(/AUTH PLAIN failed: 535/);
    expect(outcome.error).not.toContain(password);
  });

  it("Given a rejected recipient (550) / should fail without retrying", async () => {
    const smtp = await server({ replies: { RCPT: "550 5.1.1 <ops@example.com>: Recipient address rejected" } });
    const outcome = await deliver(settings({ address: `smtp://127.0.0.1:${smtp.port}`, from: "flux@example.com" }));
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.error).toMatch(/RCPT TO failed: 550 5\.1\.1/);
  });

  it("Given a temporary failure (421) / should retry", async () => {
    const smtp = await server({ replies: { MAIL: "421 4.3.2 Service not available, try later" } });
    const outcome = await deliver(settings({ address: `smtp://127.0.0.1:${smtp.port}`, from: "flux@example.com" }));
    expect(outcome).toMatchObject({ delivered: false, attempts: 3 });
    expect(smtp.sessions).toHaveLength(3);
    expect(outcome.error).toMatch(/MAIL FROM failed: 421/);
  });

  it("Given a server that never greets / should give up at the Provider timeout", async () => {
    const smtp = await server({ silent: true });
    const notifier = t.notifier(
      settings({ address: `smtp://127.0.0.1:${smtp.port}`, from: "flux@example.com", timeoutMs: 300 }),
    );
    const err = await notifier.post(sampleEvent()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpError);
    expect((err as SmtpError).message).toMatch(/timed out after 300ms/);
    expect((err as SmtpError).retryable).toBe(true);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

  it.skipIf(!external)(
    "Given credentials and a non-loopback server without STARTTLS / should refuse to send them",
    async () => {
      const smtp = await server({
        auth: ["PLAIN"],
        credentials: { username: "u@example.com", password },
        host: "0.0.0.0",
      });
      const outcome = await deliver(
        settings({ address: `smtp://${external}:${smtp.port}`, username: "u@example.com", password }),
      );
      expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
      expect(outcome.error).toMatch(/refusing to send credentials/);
      expect(smtp.sessions[0]?.commands.some((c) => c.startsWith("AUTH"))).toBe(false);
    },
  );
});

describe("smtp settings and message", () => {
  it("Given the Provider fields / should map address, channel and Secret keys", () => {
    const c = smtpConfig(settings({ address: "smtps://mail.example.com", username: "bot@example.com", password: "p" }));
    expect(c.options).toMatchObject({
      host: "mail.example.com",
      port: 465,
      implicitTls: true,
      username: "bot@example.com",
    });
    expect(c.from).toBe("bot@example.com");
    expect(c.recipients).toEqual(["ops@example.com", "oncall@example.com"]);
    expect(smtpConfig(settings({ address: "smtp://mail.example.com", from: "f@example.com" })).options.port).toBe(587);
  });

  it.each([
    [{ address: "https://mail.example.com", from: "f@example.com" }, /smtp:\/\/ or smtps:\/\//],
    [{ address: "smtp://mail.example.com" }, /needs a `from` key/],
    [{ address: "smtp://mail.example.com", from: "f@example.com", channel: "" }, /recipient/],
    [
      { address: "smtp://mail.example.com", from: "f@example.com", channel: "a@example.com\r\nBcc: x" },
      /invalid recipient/,
    ],
    [{ address: "smtp://mail.example.com", from: "f@example.com", username: "u" }, /both `username` and `password`/],
    [{ address: "smtp://mail.example.com", from: "f@example.com", proxy: "http://proxy:3128" }, /proxy/],
  ])("Given %o / should refuse the Provider", (s, message) => {
    expect(() => createNotifier(settings(s))).toThrow(message);
  });

  it("Given an event whose reason carries a line break / should keep it out of the header block", () => {
    const msg = mailMessage(sampleEvent({ reason: "Bad\r\nBcc: evil@example.com" }), "f@example.com", [
      "a@example.com",
    ]);
    const head = msg.slice(0, msg.indexOf("\r\n\r\n"));
    expect(head.split("\r\n").some((l) => l.startsWith("Bcc:"))).toBe(false);
    expect(head).toContain("Subject: [Flux] info gitrepository/webapp.flux-system: Bad Bcc: evil@example.com");
  });

  it("Given a notification id / should use it as the Message-ID, so a mail sent again after a crash is the same mail", () => {
    const id = "0b7e6f0e-8d1c-8a2b-9c3d-4e5f60718293";
    const first = mailMessage(sampleEvent({ id }), "f@example.com", ["a@example.com"]);
    const again = mailMessage(sampleEvent({ id }), "f@example.com", ["a@example.com"]);
    expect(first).toContain(`\r\nMessage-ID: <${id}@capstan.notification-controller>\r\n`);
    expect(again).toContain(`\r\nMessage-ID: <${id}@capstan.notification-controller>\r\n`);
  });

  it("Given non-ASCII text / should encode the subject as an RFC 2047 word and the body as quoted-printable", () => {
    const msg = mailMessage(sampleEvent({ reason: "Réconcilié" }), "f@example.com", ["a@example.com"]);
    expect(msg).toMatch(/\r\nSubject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r\n/);
    expect(quotedPrintable("é = ok ")).toBe("=C3=A9 =3D ok=20");
    expect(
      quotedPrintable("x".repeat(80))
        .split("\r\n")
        .map((l) => l.length),
    ).toEqual([76, 5]);
  });

  it("Given lines starting with a dot / should double the dot and end with CRLF", () => {
    expect(dotStuff(".a\n..b\nc")).toBe("..a\r\n...b\r\nc\r\n");
    expect(parseRecipients("a@example.com; b@example.com c@example.com")).toHaveLength(3);
  });
});
