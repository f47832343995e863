import type { Logger } from "../contracts.js";
import { LeaderElector } from "../leader/index.js";
import type { ElectorFactory } from "./types.js";

/**
 * The Manager's default elector: leader/'s LeaderElector on a coordination.k8s.io Lease, releasing it on a clean stop.
 * Exported so that a controller needing its own leadership hooks can wrap it instead of building another.
 */
export function leaseElector(log: Logger): ElectorFactory {
  return (client, config) => {
    let elector: LeaderElector | undefined;
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
          onStartedLeading: callbacks.onStartedLeading,
          onStoppedLeading: callbacks.onStoppedLeading,
          logger: log,
        });
        elector.start();
      },
      release: async () => {
        await elector?.stop({ release: true });
      },
    };
  };
}
