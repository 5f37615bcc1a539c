/**
 * What the batcher does after a /v1/events/batch request failed: a failure of the moment is sent
 * again, a body over the size limit is split, and events the service refused are rejected (retrying
 * cannot help them) while the rest of their batch is sent again: its ids make that harmless.
 */
import { WebhookApiError } from './errors';
import { isNetworkError } from './retry-policy';

export type BatchFailure =
  /** The service was unreachable, overloaded or failed: send the same events again after `delayMs` (from Retry-After), or a back-off. */
  | { kind: 'retry'; delayMs?: number }
  /** 413 with more than one event: send each half on its own. */
  | { kind: 'split' }
  /** These events (positions in the batch) can never be accepted as they are; the others can be sent again. */
  | { kind: 'reject'; indices: number[] };

/** Statuses of a failure of the moment. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/** A detail's path names an event of the batch: `events.3` or `events.3.type`. */
const EVENT_PATH = /^events\.(\d+)(\.|$)/;

export function classifyBatchFailure(err: unknown, size: number): BatchFailure {
  const all: BatchFailure = { kind: 'reject', indices: [...Array(size).keys()] };
  if (!(err instanceof WebhookApiError)) return isNetworkError(err) ? { kind: 'retry' } : all;
  if (retryable(err.status)) return { kind: 'retry', delayMs: err.retryAfter === undefined ? undefined : err.retryAfter * 1000 };
  if (err.status === 413) return size > 1 ? { kind: 'split' } : all;
  // A validation error or an id conflict names the events it is about (`events.N...`); then only those are refused.
  if (err.status === 400 || err.status === 409) {
    const indices = err.details.map((d) => EVENT_PATH.exec(d.path)?.[1]).map((n) => (n === undefined ? -1 : Number(n)));
    if (indices.length > 0 && indices.every((i) => i >= 0 && i < size)) return { kind: 'reject', indices: [...new Set(indices)].sort((a, b) => a - b) };
  }
  return all;
}
