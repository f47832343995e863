// Receiver webhook paths, as Flux computes them: /hook/ + hex sha256 of token + name + namespace. The token makes the
// path unguessable; name and namespace make it unique per Receiver.
import { createHash } from "node:crypto";

export const ReceiverWebhookPath = "/hook/";

export function webhookPath(token: string, name: string, namespace: string): string {
  return `${ReceiverWebhookPath}${createHash("sha256")
    .update(token + name + namespace)
    .digest("hex")}`;
}
