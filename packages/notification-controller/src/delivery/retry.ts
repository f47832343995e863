// Retries for one notification: network errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter;
// a 429's Retry-After is honoured (capped, so a provider cannot park a queue for a day); anything else fails at once.
import { setTimeout as sleep } from "node:timers/promises";
import { DeliveryError } from "../providers/http.js";

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on a Retry-After wait. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 5 * 60_000,
};

/** Delay before attempt `attempt + 1` (attempt counts from 1): half fixed, half jitter, so retries spread out. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export function isRetryable(err: unknown): boolean {
  return err instanceof DeliveryError && err.retryable;
}

export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, random?: () => number): number {
  if (err instanceof DeliveryError && err.retryAfterMs !== undefined) {
    return Math.min(err.retryAfterMs, policy.maxRetryAfterMs);
  }
  return backoffDelay(attempt, policy, random);
}

export interface RetryResult {
  attempts: number;
}

export class RetriesExhaustedError extends Error {
  override readonly name = "RetriesExhaustedError";
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`gave up after ${attempts} attempt(s): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Runs `send` until it succeeds, fails for good, or runs out of attempts; throws RetriesExhaustedError then. */
export async function withRetries(
  send: (signal?: AbortSignal) => Promise<void>,
  policy: RetryPolicy,
  options: { signal?: AbortSignal; onRetry?: (attempt: number, err: unknown, delayMs: number) => void } = {},
): Promise<RetryResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send(options.signal);
      return { attempts: attempt };
    } catch (err) {
      if (!isRetryable(err) || attempt >= policy.maxAttempts || options.signal?.aborted) {
        throw new RetriesExhaustedError(attempt, err);
      }
      const delay = retryDelay(err, attempt, policy);
      options.onRetry?.(attempt, err, delay);
      try {
        await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
      } catch {
        throw new RetriesExhaustedError(attempt, err);
      }
    }
  }
}
