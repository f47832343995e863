// A Provider whose type the CRD accepts but Capstan cannot send to (the set shrinks as notifiers are added; what is
// supported is whatever createNotifier builds, nothing else decides it). Its Alerts stay bound, so that every
// notification they would send is visibly dropped, one Warning Event, log line and metric count each, rather than
// silently: Flux's CLI prints every v1beta3 Provider and Alert as Ready, so the drops are what a user can see.
import type { FluxEvent } from "../events/event.js";
import { DeliveryError } from "./http.js";
import type { Notifier } from "./notifier.js";
import { ProviderConfigError } from "./settings.js";

/** Thrown by createNotifier for a type it has no notifier for. */
export class UnsupportedProviderTypeError extends ProviderConfigError {
  constructor(readonly providerType: string) {
    super(`unsupported provider type '${providerType}'`);
  }
}

/** A notification that was not sent at all, and never will be: no retry, settled as dropped. */
export class UndeliverableError extends DeliveryError {
  constructor(message: string) {
    super(message, false);
  }
}

/** The notifier an Alert of an unsupported Provider is bound to: each post fails at once as dropped. */
export function undeliverableNotifier(providerKey: string, type: string): Notifier {
  const message = `Provider '${providerKey}' has type '${type}', which Capstan cannot send to: notification dropped`;
  return {
    type,
    post: async (_event: FluxEvent) => {
      throw new UndeliverableError(message);
    },
    close: async () => undefined,
  };
}
