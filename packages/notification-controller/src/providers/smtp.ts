// The `smtp` Provider (a Capstan addition: Flux has no e-mail provider). Field mapping on the existing Provider fields:
//   address   smtp://host[:port] (STARTTLS whenever offered, port 587) or smtps://host[:port] (TLS, port 465)
//   channel   the recipient(s), separated by commas
//   secretRef `username` and `password` (AUTH PLAIN or LOGIN; only over TLS unless the server is on loopback),
//             `from` (the sender; defaults to `username` when that is an address), `address` (overrides spec.address)
//   certSecretRef `ca.crt` for a private CA; timeout bounds the whole session.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type FluxEvent, sortedEntries } from "../events/event.js";
import { ProviderConfigError, type ProviderSettings } from "./settings.js";
import { objectTitle } from "./slack.js";
import { type SmtpOptions, sendMail } from "./smtp-client.js";

const mailbox = /^[^\s<>()[\]\\,;:"@]+@[A-Za-z0-9.-]+$/;
const maxRecipients = 50;

export interface SmtpConfig {
  options: SmtpOptions;
  from: string;
  recipients: string[];
}

export function parseRecipients(channel: string | undefined): string[] {
  const list = (channel ?? "")
    .split(/[,;\s]+/)
    .map((r) => r.trim())
    .filter(Boolean);
  if (list.length === 0) throw new ProviderConfigError("smtp provider needs the recipient address(es) in spec.channel");
  if (list.length > maxRecipients)
    throw new ProviderConfigError(`smtp provider accepts at most ${maxRecipients} recipients`);
  for (const r of list) {
    if (!mailbox.test(r))
      throw new ProviderConfigError(`smtp provider: invalid recipient address '${r.slice(0, 100)}'`);
  }
  return list;
}

function clientName(): string {
  const name = hostname().replace(/[^A-Za-z0-9.-]/g, "");
  return name || "localhost";
}

export function smtpConfig(s: ProviderSettings): SmtpConfig {
  if (!s.address) throw new ProviderConfigError("smtp provider has no address (smtp://host:port or smtps://host:port)");
  let u: URL;
  try {
    u = new URL(s.address);
  } catch (cause) {
    throw new ProviderConfigError("smtp provider address is not a valid smtp:// or smtps:// URL", { cause });
  }
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:") {
    throw new ProviderConfigError("smtp provider address must start with smtp:// or smtps://");
  }
  if (!u.hostname) throw new ProviderConfigError("smtp provider address has no host");
  if (s.proxy) throw new ProviderConfigError("smtp provider does not support a proxy");
  const implicitTls = u.protocol === "smtps:";
  const port = u.port ? Number(u.port) : implicitTls ? 465 : 587;
  const from = s.from ?? (s.username && mailbox.test(s.username) ? s.username : undefined);
  if (!from) {
    throw new ProviderConfigError(
      "smtp provider needs a `from` key in its secretRef (or a `username` that is an address)",
    );
  }
  if (!mailbox.test(from)) throw new ProviderConfigError("smtp provider: the `from` address is not valid");
  if ((s.username && !s.password) || (!s.username && s.password)) {
    throw new ProviderConfigError("smtp provider needs both `username` and `password` in its secretRef, or neither");
  }
  return {
    options: {
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port,
      implicitTls,
      ...(s.caCert ? { caCert: s.caCert } : {}),
      ...(s.username ? { username: s.username } : {}),
      ...(s.password ? { password: s.password } : {}),
      clientName: clientName(),
      timeoutMs: s.timeoutMs,
    },
    from,
    recipients: parseRecipients(s.channel),
  };
}

/** Header values come from cluster objects: no line breaks may reach the header block. */
function headerValue(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, " ").trim();
  // RFC 2047 encoded-word for anything beyond printable ASCII.
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, "utf8").toString("base64")}?=`;
}

/** Quoted-printable (RFC 2045 §6.7) with CRLF line ends and soft breaks under 76 characters. */
export function quotedPrintable(text: string): string {
  const lines = text.replace(/\r?\n/g, "\n").split("\n");
  return lines
    .map((line) => {
      const bytes = Buffer.from(line, "utf8");
      let out = "";
      let width = 0;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] as number;
        const last = i === bytes.length - 1;
        const plain = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        const piece = plain ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (width + piece.length > 75) {
          out += "=\r\n";
          width = 0;
        }
        out += piece;
        width += piece.length;
      }
      return out;
    })
    .join("\r\n");
}

export function mailSubject(event: FluxEvent): string {
  return `[Flux] ${event.severity} ${objectTitle(event)}: ${event.reason}`;
}

export function mailText(event: FluxEvent): string {
  const o = event.involvedObject;
  const metadata = sortedEntries(event.metadata).map(([k, v]) => `  ${k}: ${v}\n`);
  return (
    `${o.kind}/${o.namespace ?? ""}/${o.name}\n` +
    `severity: ${event.severity}\nreason: ${event.reason}\n` +
    `controller: ${event.reportingController}\ntime: ${event.timestamp}\n\n` +
    `${event.message}\n` +
    (metadata.length > 0 ? `\nmetadata:\n${metadata.join("")}` : "")
  );
}

export function mailMessage(event: FluxEvent, from: string, recipients: string[], now: Date = new Date()): string {
  const headers = [
    `From: ${from}`,
    `To: ${recipients.join(", ")}`,
    `Subject: ${headerValue(mailSubject(event))}`,
    `Date: ${now.toUTCString().replace(/GMT$/, "+0000")}`,
    // The notification's id makes a mail sent again after a crash carry the same Message-ID (at-least-once delivery).
    `Message-ID: <${event.id ?? randomUUID()}@capstan.notification-controller>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "Auto-Submitted: auto-generated",
  ];
  return `${headers.join("\r\n")}\r\n\r\n${quotedPrintable(mailText(event))}\r\n`;
}

export function smtpSender(s: ProviderSettings) {
  const config = smtpConfig(s);
  return (event: FluxEvent, signal?: AbortSignal) =>
    sendMail(
      config.options,
      { from: config.from, recipients: config.recipients, data: mailMessage(event, config.from, config.recipients) },
      signal,
    );
}
