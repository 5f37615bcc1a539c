import { z } from 'zod';
import { jitteredDelayMs } from './retry-jitter';

/** First attempt at once, then retries after these delays: 6 attempts in all. */
export const DEFAULT_RETRY_SCHEDULE = ['1m', '5m', '15m', '1h', '2h'] as const;

export const MAX_RETRY_DELAY_MS = 24 * 60 * 60 * 1000;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,5})(s|m|h|d)$/;

export function parseDelay(delay: string): number {
  const match = DURATION.exec(delay);
  if (!match) throw new RangeError(`invalid delay "${delay}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/**
 * A delay a webhook may set: 1s to 24h, with no leading zero. One regular expression, not a
 * pattern plus a range check, so the OpenAPI document refuses what the server refuses (`0d`).
 */
const DELAY_IN_RANGE = new RegExp(
  `^(?:${[
    '(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)s', // 1..86400 s
    '(?:[1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)m', // 1..1440 m
    '(?:[1-9]|1[0-9]|2[0-4])h', // 1..24 h
    '1d',
  ].join('|')})$`,
);

export const retryDelaySchema = z.string().regex(DELAY_IN_RANGE, 'expected a delay between 1s and 24h such as 30s, 5m, 2h or 1d');

export const retryScheduleSchema = z.array(retryDelaySchema).min(1).max(20);

/** The whole schedule in milliseconds: the webhook's own, or the default. */
export function retryDelaysMs(schedule: readonly string[] | undefined | null): number[] {
  return (schedule?.length ? schedule : DEFAULT_RETRY_SCHEDULE).map(parseDelay);
}

/** Attempts a delivery gets: the first one plus one per delay. */
export function maxAttempts(schedule: readonly string[] | undefined | null): number {
  return retryDelaysMs(schedule).length + 1;
}

/**
 * The schedule's delay before the attempt that follows `attempt` (1-based), or undefined when
 * `attempt` was the last one. The one function that reads the schedule; a delivery waits
 * `retryDelayAfter`, this jittered.
 */
export function delayAfterAttempt(schedule: readonly string[] | undefined | null, attempt: number): number | undefined {
  return retryDelaysMs(schedule)[attempt - 1];
}

/** How long `deliveryId` waits after its attempt `attempt` failed: the schedule's delay, jittered (retry-jitter.ts); undefined after the last. */
export function retryDelayAfter(schedule: readonly string[] | undefined | null, attempt: number, deliveryId: string): number | undefined {
  const delay = delayAfterAttempt(schedule, attempt);
  return delay === undefined ? undefined : jitteredDelayMs(delay, deliveryId, attempt);
}

/** How long after its first attempt `deliveryId`'s last scheduled attempt would be made: its schedule's delays, jittered. */
export function scheduleSpanMs(schedule: readonly string[] | undefined | null, deliveryId: string): number {
  return retryDelaysMs(schedule).reduce((span, _, i) => span + (retryDelayAfter(schedule, i + 1, deliveryId) ?? 0), 0);
}

/** First wait after a failure of the service's own parts (database, Temporal) before an attempt. */
export const OWN_FAILURE_FIRST_DELAY_MS = 1000;
/** Longest such wait: a delivery resumes within this of its database coming back. */
export const OWN_FAILURE_MAX_DELAY_MS = 30_000;

/**
 * Delay before trying again after the `failures`-th failure (1-based) of the service's own parts:
 * doubling from 1 s to 30 s. Not the schedule: such a failure spends no attempt.
 */
export function ownFailureDelayMs(failures: number): number {
  return Math.min(OWN_FAILURE_MAX_DELAY_MS, OWN_FAILURE_FIRST_DELAY_MS * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}
