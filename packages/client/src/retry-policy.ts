/**
 * When the client tries a request again: 429 and 503 always (the service did not carry the request
 * out and says when to come back), a network error, 408, 502 or 504 only when the request is
 * idempotent (a second try cannot do it twice). Waits follow `Retry-After`, else back off with jitter.
 */

export interface RetryOptions {
  /** Most tries of one request, the first included. @default 4 */
  maxAttempts?: number;
  /** Longest the client waits in all between tries of one request; a `Retry-After` beyond what is left is not waited for. @default 60_000 */
  maxTotalWaitMs?: number;
  /** Back-off before the second try when the answer names no `Retry-After`; it doubles per try. @default 500 */
  baseDelayMs?: number;
  /** Longest back-off of one wait without `Retry-After`. @default 10_000 */
  maxDelayMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, maxTotalWaitMs: 60_000, baseDelayMs: 500, maxDelayMs: 10_000 };

/** Share of a back-off that is random, so that clients turned away together do not come back together. */
const JITTER_SHARE = 0.5;

/** Milliseconds to wait after the `failures`-th failed try (1, 2, ...): doubling, capped, the upper half of it random. */
export function backoffDelay(failures: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return ceiling * (1 - JITTER_SHARE + JITTER_SHARE * random());
}

/** Statuses that mean "not now, come back": tried again for any request. */
const TRY_AGAIN_STATUSES = new Set([429, 503]);
/** Statuses after which the request may or may not have been carried out: tried again only when that is harmless. */
const IDEMPOTENT_ONLY_STATUSES = new Set([408, 502, 504]);

export function retryableStatus(status: number, idempotent: boolean): boolean {
  return TRY_AGAIN_STATUSES.has(status) || (idempotent && IDEMPOTENT_ONLY_STATUSES.has(status));
}

/**
 * A failure to reach the service (refused, reset, DNS), not a caller's abort or timeout: fetch
 * rejects with a TypeError (compared by name: it may come from another realm), undici's own
 * requests with an error that has a `code`.
 */
export function isNetworkError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return false;
  return e.name === 'TypeError' || typeof e.code === 'string';
}

export const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
