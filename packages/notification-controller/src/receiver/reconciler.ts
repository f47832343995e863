// The Receiver reconciler (notification.toolkit.fluxcd.io/v1), Flux's shape: read the token Secret, publish
// status.webhookPath, Ready=True "Receiver initialized for path: ..."; a missing Secret or token is Ready=False
// TokenNotFound and retried; a type this controller cannot serve is Stalled (ValidationFailed), and a CEL filter that
// does not compile is Stalled (InvalidCELExpression), until the spec changes.
// Secret changes re-run the Receivers that name them.
import { type Receiver, ReceiverReasons, receiverType } from "@capstan/api";
import {
  type Cache,
  decodeSecretStrings,
  type KubeObject,
  objectKey,
  Reasons,
  ReconcileError,
  type ReconcilerDefinition,
  type SecretObject,
  StallingError,
  type Step,
  secretType,
  type WithConditions,
} from "@capstan/runtime";
import { validateFilters } from "./filter.js";
import { receiverTypes } from "./handler.js";
import { webhookPath } from "./webhook-path.js";

export type ReceiverObject = Receiver & WithConditions;

export interface ReceiverReconcilerOptions {
  /** The Secret cache (the Manager's Secret informer). */
  secrets: Cache<SecretObject>;
}

const validate: Step<ReceiverObject, unknown> = async (_ctx, obj) => {
  if (!(receiverTypes as readonly string[]).includes(obj.spec.type)) {
    throw new StallingError(
      `receiver type '${obj.spec.type}' is not supported by Capstan (supported: ${receiverTypes.join(", ")})`,
      { reason: ReceiverReasons.ValidationFailed },
    );
  }
  try {
    validateFilters(obj.spec);
  } catch (err) {
    throw new StallingError((err as Error).message, { reason: ReceiverReasons.InvalidCELExpression, cause: err });
  }
};

function tokenStep(secrets: Cache<SecretObject>): Step<ReceiverObject, unknown> {
  return async (_ctx, obj) => {
    const namespace = obj.metadata.namespace ?? "";
    const name = obj.spec.secretRef?.name;
    if (!name) throw new StallingError("spec.secretRef is required", { reason: ReceiverReasons.TokenNotFound });
    const secret = secrets.get(`${namespace}/${name}`);
    if (!secret) {
      throw new ReconcileError(`unable to read token from secret '${namespace}/${name}': Secret not found`, {
        reason: ReceiverReasons.TokenNotFound,
      });
    }
    const token = decodeSecretStrings(secret.data).token;
    if (token === undefined) {
      throw new ReconcileError(`invalid '${namespace}/${name}' secret data: required field 'token'`, {
        reason: ReceiverReasons.TokenNotFound,
      });
    }
    obj.status ??= {};
    obj.status.webhookPath = webhookPath(token, obj.metadata.name, namespace);
  };
}

export function receiverDefinition(options: ReceiverReconcilerOptions): ReconcilerDefinition<ReceiverObject, unknown> {
  return {
    name: "receiver",
    type: receiverType,
    conditions: { owned: [], summarize: [], negativePolarity: [] },
    steps: [validate, tokenStep(options.secrets)],
    readyWhenEmpty: (obj) => ({
      reason: Reasons.Succeeded,
      message: `Receiver initialized for path: ${String(obj.status?.webhookPath ?? "")}`,
    }),
    watches: [
      {
        type: secretType,
        map: (secret: KubeObject, own: Cache<ReceiverObject>) =>
          own
            .list(secret.metadata.namespace)
            .filter((r) => r.spec.secretRef?.name === secret.metadata.name)
            .map((r) => objectKey(r)),
        shouldEnqueue: (oldObj, newObj) => oldObj.metadata.resourceVersion !== newObj.metadata.resourceVersion,
        // The same unfiltered Secret informer the app builds: token Secrets carry no shard label.
        ignoreLabelSelector: true,
      },
    ],
  };
}
