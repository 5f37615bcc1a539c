import type { HttpResult } from './http-client';
import type { AttemptRecord } from './types';

/**
 * The attempt log of a delivery travels with its deliver activity: each attempt heartbeats the
 * log with its own record open (durationMs null) before the request leaves, then again with the
 * record complete; Temporal hands the last heartbeat to the next attempt. Pure functions only:
 * the workflow uses them too.
 */

/** The record of an attempt whose request is about to leave: on record even if the worker dies. */
export function openAttemptRecord(attempt: number, startedAt: Date): AttemptRecord {
  return { attempt, startedAt: startedAt.toISOString(), durationMs: null, statusCode: null, errorClass: null, error: null, response: null };
}

/**
 * The log as a new attempt (or the workflow) finds it. A record still open means its worker
 * stopped mid-request: the request may have reached the receiver, its answer is unknown.
 */
export function restoreAttemptLog(details: unknown): AttemptRecord[] {
  if (!Array.isArray(details)) return [];
  return (details as AttemptRecord[]).map((record) =>
    record.durationMs === null && record.statusCode === null && record.errorClass === null
      ? { ...record, errorClass: 'worker_lost', error: 'the worker stopped during this attempt; its outcome is unknown' }
      : record,
  );
}

/** Both logs in attempt order; for an attempt in both, the record of `primary` wins. */
export function mergeAttemptLogs(primary: readonly AttemptRecord[], secondary: readonly AttemptRecord[]): AttemptRecord[] {
  const byAttempt = new Map<number, AttemptRecord>();
  for (const record of secondary) byAttempt.set(record.attempt, record);
  for (const record of primary) byAttempt.set(record.attempt, record);
  return [...byAttempt.values()].sort((a, b) => a.attempt - b.attempt);
}

/**
 * The complete record of an attempt from what the HTTP client saw; `answerError`, for a non-2xx
 * answer, says what it meant (a chat service's answer: `Slack answered 404 no_service`) instead of
 * `HTTP <status>`.
 */
export function completeAttemptRecord(attempt: number, startedAt: Date, result: HttpResult, answerError?: string): AttemptRecord {
  const ok = result.kind === 'response' && result.statusCode >= 200 && result.statusCode < 300;
  return {
    attempt,
    startedAt: startedAt.toISOString(),
    durationMs: result.durationMs,
    statusCode: result.kind === 'response' ? result.statusCode : null,
    errorClass: result.kind === 'error' ? result.errorClass : null,
    error: result.kind === 'error' ? result.message : ok ? null : (answerError ?? `HTTP ${result.statusCode}`),
    response: result.kind === 'response' ? result.body : null,
  };
}

/** The record of an attempt that ended before any request left: its webhook's transformation failed. */
export function unsentAttemptRecord(attempt: number, startedAt: Date, errorClass: 'transformation_failed', error: string, transformation: string): AttemptRecord {
  return { attempt, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), statusCode: null, errorClass, error, response: null, transformation };
}
