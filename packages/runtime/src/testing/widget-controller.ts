// A small controller used only in tests: it drives every piece of the runtime (queue, reconcile loop, conditions,
// status patching, events, metrics) with behaviour chosen per object through its spec.
import { setTimeout as sleep } from "node:timers/promises";
import { Reasons } from "../apis/meta.js";
import { objectKey } from "../contracts.js";
import { markTrue } from "../reconcile/conditions.js";
import { ReconcileError, StallingError, WaitingError } from "../reconcile/errors.js";
import type { ReconcilerDefinition, Step } from "../reconcile/types.js";
import type { Widget } from "./widget-crd.js";
import { widgetType } from "./widget-crd.js";

/** What the test controller saw: per key, how many reconciles ran and whether two ever overlapped. */
export class ReconcileLedger {
  readonly counts = new Map<string, number>();
  readonly active = new Map<string, number>();
  readonly failures = new Map<string, number>();
  overlaps = 0;
  total = 0;

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** The label that ties a ConfigMap to a Widget of the same namespace. */
export const widgetLabel = "testing.capstan.dev/widget";

interface WidgetState {
  key: string;
}

/** Behaviour chosen by spec: sleep, stall, wait, fail N times per generation, then publish spec.message. */
async function publish(ledger: ReconcileLedger, signal: AbortSignal, obj: Widget, key: string): Promise<void> {
  const spec = obj.spec ?? {};
  if (spec.sleepMs) await sleep(spec.sleepMs, undefined, { signal }).catch(() => undefined);
  if (spec.stall) {
    throw new StallingError("spec.stall is true: this widget cannot be published until its spec changes", {
      reason: Reasons.InvalidSpec,
    });
  }
  if (spec.waitMs) {
    throw new WaitingError(`waiting ${spec.waitMs}ms for a dependency`, {
      reason: Reasons.DependencyNotReady,
      requeueAfterMs: spec.waitMs,
    });
  }
  const failKey = `${key}@${obj.metadata.generation}`;
  const failed = ledger.failures.get(failKey) ?? 0;
  if (failed < (spec.failTimes ?? 0)) {
    ledger.failures.set(failKey, failed + 1);
    throw new ReconcileError(`simulated failure ${failed + 1} of ${spec.failTimes}`, { reason: "SimulatedFailure" });
  }
  obj.status ??= {};
  obj.status.message = spec.message ?? "";
  markTrue(obj, "Published", Reasons.Succeeded, `published message ${JSON.stringify(obj.status.message)}`);
}

/** The Widget reconciler; `ledger` records every pass. */
export function widgetDefinition(ledger: ReconcileLedger): ReconcilerDefinition<Widget, WidgetState> {
  const widget: Step<Widget, WidgetState> = async (ctx, obj, { key }) => {
    ledger.total++;
    ledger.counts.set(key, ledger.count(key) + 1);
    const active = (ledger.active.get(key) ?? 0) + 1;
    ledger.active.set(key, active);
    if (active > 1) ledger.overlaps++;
    ctx.log.info({ generation: obj.metadata.generation }, "publishing widget");
    try {
      await publish(ledger, ctx.signal, obj, key);
    } finally {
      ledger.active.set(key, (ledger.active.get(key) ?? 1) - 1);
    }
  };
  return {
    name: "widget",
    type: widgetType,
    conditions: { owned: ["Published"], summarize: ["Published"], negativePolarity: [] },
    newState: (obj) => ({ key: objectKey(obj) }),
    steps: [widget],
    watches: [
      {
        // A ConfigMap labelled with a widget's name triggers that widget (as a GitRepository triggers the
        // Kustomizations that reference it).
        type: { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
        map: (cm) => {
          const widget = cm.metadata.labels?.[widgetLabel];
          return widget && cm.metadata.namespace ? [`${cm.metadata.namespace}/${widget}`] : [];
        },
        shouldEnqueue: (oldCm, newCm) => oldCm.metadata.resourceVersion !== newCm.metadata.resourceVersion,
      },
    ],
  };
}
