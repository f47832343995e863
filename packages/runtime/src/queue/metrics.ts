/** What a work queue reports; telemetry/ implements it with controller-runtime's workqueue_* series. */
export interface QueueMetrics {
  add(): void;
  depth(n: number): void;
  /** Seconds an entry waited between being added and being handed to a worker. */
  queued(seconds: number): void;
  /** Seconds a worker held an entry. */
  worked(seconds: number): void;
  retry(): void;
}

export const noQueueMetrics: QueueMetrics = {
  add: () => undefined,
  depth: () => undefined,
  queued: () => undefined,
  worked: () => undefined,
  retry: () => undefined,
};
