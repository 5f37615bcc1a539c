import { disableRule } from '../../src/delivery/webhook-health';
import { countersOf } from '../../src/models/webhook-counter';

describe('auto-disable rules, on the counters a counter write returned', () => {
  const policy = { consecutiveFailures: 3, failingForMs: 3_600_000 };
  const now = new Date('2026-11-30T12:00:00.000Z');
  const counters = (consecutiveFailureCount: number, failingSince: Date | null) => ({ ...countersOf(null), consecutiveFailureCount, failingSince });

  it('disables at the configured streak, not before', () => {
    expect(disableRule('failed', counters(2, now), policy, now)).toBeNull();
    expect(disableRule('failed', counters(3, now), policy, now)).toEqual({ rule: 'consecutive_failures', reason: '3 consecutive deliveries failed' });
  });

  it('disables once failing for the configured span, not a millisecond before', () => {
    const hourAgo = new Date(now.getTime() - 3_600_000);
    expect(disableRule('failed', counters(1, new Date(hourAgo.getTime() + 1)), policy, now)).toBeNull();
    expect(disableRule('failed', counters(1, hourAgo), policy, now)).toEqual({ rule: 'failing_too_long', reason: 'deliveries have failed for more than 1 hour without a success' });
  });

  it('a 410 Gone disables whatever the counters; a delivered or canceled delivery never does', () => {
    expect(disableRule('gone', null, policy, now)?.rule).toBe('gone');
    expect(disableRule('delivered', counters(5, new Date(0)), policy, now)).toBeNull();
    expect(disableRule('canceled', counters(5, new Date(0)), policy, now)).toBeNull();
    expect(disableRule('failed', null, policy, now)).toBeNull();
  });
});
