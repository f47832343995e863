export { noQueueMetrics, type QueueMetrics } from "./metrics.js";
export {
  type BackoffOptions as RetryBackoffOptions,
  defaultBaseDelayMs,
  defaultMaxDelayMs,
  ExponentialBackoff,
  type RateLimiter,
} from "./rate-limiter.js";
export { WorkQueue, type WorkQueueOptions } from "./work-queue.js";
export {
  defaultParkedPerWorker,
  type Lease,
  type Outcome,
  startWorkers,
  type WorkerPool,
  type WorkerPoolOptions,
} from "./workers.js";
