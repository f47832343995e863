// Leader election through the runtime's LeaderElector, with hooks: the EventPipeline and its Alert bindings are not a
// Manager controller (v1beta3 Alerts have no status to reconcile), so they start and stop with leadership here.
import { type ElectorFactory, LeaderElector, type Logger } from "@capstan/runtime";

export interface LeadershipHooks {
  onStartedLeading(): void;
  /** Leadership lost without a release: stop sending at once, another replica may be sending already. */
  onStoppedLeading(): void;
}

export function hookedLeaseElector(log: Logger, hooks: LeadershipHooks): ElectorFactory {
  return (client, config) => {
    let elector: LeaderElector | undefined;
    let releasing = false;
    return {
      run: (callbacks) => {
        elector = new LeaderElector(client, {
          leaseName: config.name,
          namespace: config.namespace,
          identity: config.identity,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
          releaseOnStop: true,
          onStartedLeading: () => {
            callbacks.onStartedLeading();
            hooks.onStartedLeading();
          },
          onStoppedLeading: () => {
            if (!releasing) hooks.onStoppedLeading();
            callbacks.onStoppedLeading();
          },
          logger: log,
        });
        elector.start();
      },
      release: async () => {
        releasing = true;
        await elector?.stop({ release: true });
      },
    };
  };
}
