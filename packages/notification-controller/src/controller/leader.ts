// The Manager's lease elector with hooks: the EventPipeline and its Alert bindings are not a Manager controller
// (v1beta3 Alerts have no status to reconcile), so they start and stop with leadership here.
import { type ElectorFactory, type Logger, leaseElector } from "@capstan/runtime";

export interface LeadershipHooks {
  onStartedLeading(): void;
  /** Leadership lost without a release: stop sending at once, another replica may be sending already. */
  onStoppedLeading(): void;
}

export function hookedLeaseElector(log: Logger, hooks: LeadershipHooks): ElectorFactory {
  const lease = leaseElector(log);
  return (client, config) => {
    const elector = lease(client, config);
    // Our own release also ends leadership; the hook is only for losing it.
    let releasing = false;
    return {
      run: (callbacks) =>
        elector.run({
          onStartedLeading: () => {
            callbacks.onStartedLeading();
            hooks.onStartedLeading();
          },
          onStoppedLeading: () => {
            if (!releasing) hooks.onStoppedLeading();
            callbacks.onStoppedLeading();
          },
        }),
      release: async () => {
        releasing = true;
        await elector.release();
      },
    };
  };
}
