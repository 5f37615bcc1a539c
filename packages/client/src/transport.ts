/** The fetch under the typed client: tries a request again as the retry policy allows. */
import { parseRetryAfter } from './retry-after';
import { backoffDelay, IDEMPOTENT_METHODS, isNetworkError, retryableStatus, type RetryPolicy } from './retry-policy';

export type Fetch = (request: Request) => Promise<Response>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `fetch` that retries under `policy`. `idempotent` marks every request through it as safe to
 * send twice (POST /v1/events with an id); otherwise only GET, HEAD, OPTIONS, PUT and DELETE are.
 */
export function retryingFetch(fetch: Fetch, policy: RetryPolicy, idempotent = false): Fetch {
  return async (request) => {
    const safe = idempotent || IDEMPOTENT_METHODS.has(request.method);
    let waitedMs = 0;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= policy.maxAttempts;
      // A body can be read once: every try but the last sends a copy.
      const sent = last ? request : request.clone();
      let waitMs: number;
      try {
        const response = await fetch(sent);
        if (last || !retryableStatus(response.status, safe)) return response;
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        waitMs = retryAfter === undefined ? backoffDelay(attempt, policy) : retryAfter * 1000;
        if (waitedMs + waitMs > policy.maxTotalWaitMs) return response;
        await response.body?.cancel();
      } catch (err) {
        if (last || !safe || !isNetworkError(err)) throw err;
        waitMs = backoffDelay(attempt, policy);
        if (waitedMs + waitMs > policy.maxTotalWaitMs) throw err;
      }
      waitedMs += waitMs;
      await sleep(waitMs);
    }
  };
}
