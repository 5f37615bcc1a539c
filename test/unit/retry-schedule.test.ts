import { DEFAULT_RETRY_SCHEDULE, delayAfterAttempt, maxAttempts, retryScheduleSchema } from '../../src/delivery/retry-schedule';

describe('the retry schedule', () => {
  it('defaults to an attempt at once, then 1m, 5m, 15m, 1h, 2h: 6 attempts', () => {
    expect(DEFAULT_RETRY_SCHEDULE).toEqual(['1m', '5m', '15m', '1h', '2h']);
    expect(maxAttempts(undefined)).toBe(6);
    expect([1, 2, 3, 4, 5, 6].map((a) => delayAfterAttempt(null, a))).toEqual([60_000, 300_000, 900_000, 3_600_000, 7_200_000, undefined]);
  });

  it("uses a webhook's own schedule instead", () => {
    expect(maxAttempts(['30s', '1d'])).toBe(3);
    expect([1, 2, 3].map((a) => delayAfterAttempt(['30s', '1d'], a))).toEqual([30_000, 86_400_000, undefined]);
  });

  it('accepts 1 to 20 delays, each between 1 s and 24 h', () => {
    expect(retryScheduleSchema.safeParse(['1s']).success).toBe(true);
    expect(retryScheduleSchema.safeParse(Array(20).fill('24h')).success).toBe(true);
    for (const good of [['86400s'], ['1440m'], ['1d'], ['59s', '10m', '23h']]) expect([good, retryScheduleSchema.safeParse(good).success]).toEqual([good, true]);
    for (const bad of [[], Array(21).fill('1m'), ['0s'], ['0d'], ['25h'], ['2d'], ['1441m'], ['86401s'], ['05m'], ['5 minutes'], ['1w']]) {
      expect(retryScheduleSchema.safeParse(bad).success).toBe(false);
    }
  });
});
