import { createHash } from 'node:crypto';

/**
 * Each retry waits its schedule's delay ±20 %: after an outage, the deliveries that failed in the
 * same second would otherwise all come due in the same second at every step of the schedule.
 */
export const RETRY_JITTER = 0.2;

/**
 * `delayMs` jittered for one delivery's attempt, the same every time for that delivery and
 * attempt (a hash, not a random draw): a retried activity or a replayed history waits as long.
 */
export function jitteredDelayMs(delayMs: number, deliveryId: string, attempt: number): number {
  const unit = createHash('sha256').update(`${deliveryId}\n${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
  return Math.round(delayMs * (1 - RETRY_JITTER + 2 * RETRY_JITTER * unit));
}
