import { LRUCache } from 'lru-cache';

/** When a webhook's circuit breaker opens, and how long it stays open (docs/delivery.md, "Circuit breaker"). */
export interface CircuitPolicy {
  /** Off: every attempt is made, whatever the receiver's state. @default true */
  enabled: boolean;
  /** Consecutive failed attempts that open it. @default 10 */
  consecutiveFailures: number;
  /** Share of failed attempts over `windowMs` that opens it, once there are `minimumAttempts`. @default 70 */
  failureRatePercent: number;
  /** @default 10 */
  minimumAttempts: number;
  /** @default 5 minutes */
  windowMs: number;
  /** Wait before the first probe; it doubles with each failed probe... @default 30 s */
  firstProbeAfterMs: number;
  /** ...up to this. @default 10 minutes */
  longestProbeAfterMs: number;
}

export const DEFAULT_CIRCUIT_POLICY: CircuitPolicy = {
  enabled: true,
  consecutiveFailures: 10,
  failureRatePercent: 70,
  minimumAttempts: 10,
  windowMs: 5 * 60_000,
  firstProbeAfterMs: 30_000,
  longestProbeAfterMs: 10 * 60_000,
};

/** The wait before the next probe once `failedProbes` probes have failed: doubling, up to the policy's longest. */
export function probeDelayMs(policy: CircuitPolicy, failedProbes: number): number {
  return Math.min(policy.longestProbeAfterMs, policy.firstProbeAfterMs * 2 ** Math.min(failedProbes, 20));
}

/** Attempts are counted in buckets of this much of the window: a webhook's tally stays a few dozen numbers at any rate. */
const BUCKETS_PER_WINDOW = 30;

interface Tally {
  consecutive: number;
  /** [bucket start, ok, failed], oldest first. */
  buckets: [number, number, number][];
}

/**
 * The outcomes of one worker process's attempts per webhook, and whether they open its circuit.
 * Each process counts its own attempts (counting every attempt in the database would cost the
 * healthy path a write each); the opening itself is shared. With N workers a dead receiver opens
 * the circuit after at most N × `consecutiveFailures` attempts.
 */
export class CircuitTally {
  private readonly tallies = new LRUCache<string, Tally>({ max: 20_000 });
  private readonly bucketMs: number;

  constructor(private readonly policy: CircuitPolicy) {
    this.bucketMs = Math.max(1000, Math.floor(policy.windowMs / BUCKETS_PER_WINDOW));
  }

  /** Counts an attempt; returns why the circuit opens now, or null. */
  add(webhookId: string, ok: boolean, at: number): string | null {
    const tally = this.tallies.get(webhookId) ?? { consecutive: 0, buckets: [] };
    this.tallies.set(webhookId, tally);
    tally.consecutive = ok ? 0 : tally.consecutive + 1;
    const start = at - (at % this.bucketMs);
    const last = tally.buckets.at(-1);
    if (last && last[0] === start) last[ok ? 1 : 2]++;
    else tally.buckets.push([start, ok ? 1 : 0, ok ? 0 : 1]);
    while (tally.buckets.length && tally.buckets[0][0] <= at - this.policy.windowMs) tally.buckets.shift();
    if (ok) return null;
    const { consecutiveFailures, failureRatePercent, minimumAttempts, windowMs } = this.policy;
    if (tally.consecutive >= consecutiveFailures) return `${tally.consecutive} consecutive attempts failed`;
    const [okCount, failed] = tally.buckets.reduce(([o, f], [, bo, bf]) => [o + bo, f + bf], [0, 0]);
    const total = okCount + failed;
    if (total >= minimumAttempts && failed * 100 >= failureRatePercent * total) {
      return `${failed} of the last ${total} attempts failed (${Math.round((failed * 100) / total)} % in ${Math.round(windowMs / 60_000)} min)`;
    }
    return null;
  }

  /** Forgets a webhook's attempts: its circuit opened (the count starts again when it closes). */
  reset(webhookId: string): void {
    this.tallies.delete(webhookId);
  }
}
