// What the Receiver reconciler writes: the webhook path for the token, and Ready. Pure, so it is tested apart from the
// reconcile loop.
import type { Condition, Receiver } from "@capstan/api";
import { webhookPath } from "./webhook-path.js";

export interface ReceiverStatusUpdate {
  webhookPath?: string;
  ready: Pick<Condition, "type" | "status" | "reason" | "message">;
}

export const TokenNotFoundReason = "TokenNotFound";

export function receiverStatus(receiver: Receiver, token: { value: string } | { error: string }): ReceiverStatusUpdate {
  if ("error" in token) {
    return { ready: { type: "Ready", status: "False", reason: TokenNotFoundReason, message: token.error } };
  }
  const path = webhookPath(token.value, receiver.metadata.name ?? "", receiver.metadata.namespace ?? "");
  return {
    webhookPath: path,
    ready: { type: "Ready", status: "True", reason: "Succeeded", message: `Receiver initialized for path: ${path}` },
  };
}
