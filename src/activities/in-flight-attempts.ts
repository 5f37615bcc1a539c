import { LRUCache } from 'lru-cache';
import type { AttemptOutcome } from '../delivery/outcome';
import type { AttemptRecord } from '../delivery/types';

/** The error of a first attempt handed over in flight whose answer the process taking it over never saw. */
export const IN_FLIGHT_UNKNOWN = 'the receiver had not answered within the inline budget, and its answer is unknown here (a 2xx would have been kept)';

/** An attempt's request and what it came to. */
export interface SentAttempt {
  record: AttemptRecord;
  outcome: AttemptOutcome;
}

/**
 * A request that was not sent: its webhook's transformation canceled it (`inactive`), or, scheduled
 * for its rate-limit slot, when the slot came its webhook was deleted or disabled (`inactive`), its
 * circuit breaker open, its slot missed (`rate`), a part of the service failing (`own`), or the
 * slot's request claimed by another holder (`elsewhere`). `waitMs`: the circuit's wait.
 */
export interface NotSent {
  notSent: 'inactive' | 'circuit' | 'rate' | 'own' | 'elsewhere';
  reason: string;
  waitMs?: number;
}

/** What a held request came to. */
export type HeldAttempt = SentAttempt | NotSent;

/**
 * First attempts whose receiver had not answered within the inline budget: their requests go on
 * in this process while their fan-out holds them (settle-held.ts) or, in fan-outs begun before
 * that, hands them to their workflows, whose deliver activity takes the outcome from here
 * (deliver.ts). Kept well past the longest attempt (30 s); one nobody comes for (taken over on
 * another worker) simply expires.
 */
export class InFlightAttempts {
  private readonly attempts = new LRUCache<string, Promise<HeldAttempt>>({ max: 20_000, ttl: 5 * 60_000 });

  hold(deliveryId: string, sending: Promise<HeldAttempt>): void {
    this.attempts.set(deliveryId, sending);
  }

  /** The attempt of `deliveryId` made (or scheduled) here, once: whoever settles it adopts it. */
  take(deliveryId: string): Promise<HeldAttempt> | undefined {
    const sending = this.attempts.get(deliveryId);
    this.attempts.delete(deliveryId);
    return sending;
  }
}
