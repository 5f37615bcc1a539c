import { LRUCache } from 'lru-cache';
import type { AttemptOutcome } from '../delivery/outcome';
import type { AttemptRecord } from '../delivery/types';

/** An attempt's request and what it came to. */
export interface SentAttempt {
  record: AttemptRecord;
  outcome: AttemptOutcome;
}

/**
 * First attempts whose receiver had not answered within the inline budget: their requests go on
 * in this process while the fan-out hands their deliveries to their workflows, whose deliver
 * activity takes the outcome from here (first-attempt.ts, deliver.ts). Kept well past the longest
 * attempt (30 s); one the workflow never comes for (it runs on another worker) simply expires.
 */
export class InFlightAttempts {
  private readonly attempts = new LRUCache<string, Promise<SentAttempt>>({ max: 20_000, ttl: 5 * 60_000 });

  hold(deliveryId: string, sending: Promise<SentAttempt>): void {
    this.attempts.set(deliveryId, sending);
  }

  /** The attempt of `deliveryId` made here, once: its deliver activity adopts it. */
  take(deliveryId: string): Promise<SentAttempt> | undefined {
    const sending = this.attempts.get(deliveryId);
    this.attempts.delete(deliveryId);
    return sending;
  }
}
