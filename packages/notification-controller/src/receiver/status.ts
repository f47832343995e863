// What the Receiver reconciler writes: the webhook path for the token, and Ready. Pure, so it is tested apart from the
// reconcile loop.
import { type Condition, ConditionStatus, type Receiver, ReceiverReasons } from "@capstan/api";
import { Conditions, Reasons } from "@capstan/runtime";
import { webhookPath } from "./webhook-path.js";

export interface ReceiverStatusUpdate {
  webhookPath?: string;
  ready: Pick<Condition, "type" | "status" | "reason" | "message">;
}

export function receiverStatus(receiver: Receiver, token: { value: string } | { error: string }): ReceiverStatusUpdate {
  if ("error" in token) {
    const { TokenNotFound } = ReceiverReasons;
    return {
      ready: { type: Conditions.Ready, status: ConditionStatus.False, reason: TokenNotFound, message: token.error },
    };
  }
  const path = webhookPath(token.value, receiver.metadata.name ?? "", receiver.metadata.namespace ?? "");
  return {
    webhookPath: path,
    ready: {
      type: Conditions.Ready,
      status: ConditionStatus.True,
      reason: Reasons.Succeeded,
      message: `Receiver initialized for path: ${path}`,
    },
  };
}
