import { RETRY_JITTER, jitteredDelayMs } from '../../src/delivery/retry-jitter';
import { retryDelayAfter } from '../../src/delivery/retry-schedule';

describe('retry jitter', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `dlv_${i.toString(36)}`);

  it('spreads a delay over ±20 %, evenly', () => {
    const factors = ids.map((id) => jitteredDelayMs(60_000, id, 1) / 60_000);
    expect(Math.min(...factors)).toBeGreaterThanOrEqual(1 - RETRY_JITTER);
    expect(Math.max(...factors)).toBeLessThanOrEqual(1 + RETRY_JITTER);
    // The whole range is used: the lowest and highest tenth of it are both reached.
    expect(Math.min(...factors)).toBeLessThan(1 - 0.9 * RETRY_JITTER);
    expect(Math.max(...factors)).toBeGreaterThan(1 + 0.9 * RETRY_JITTER);
    const mean = factors.reduce((a, b) => a + b, 0) / factors.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.01);
    // Four bands of the range hold about a quarter each.
    const bands = [0, 0, 0, 0];
    for (const f of factors) bands[Math.min(3, Math.floor(((f - (1 - RETRY_JITTER)) / (2 * RETRY_JITTER)) * 4))]!++;
    for (const band of bands) expect(Math.abs(band - ids.length / 4)).toBeLessThan(ids.length * 0.03);
  });

  it('is the same for the same delivery and attempt, and differs between attempts', () => {
    expect(ids.slice(0, 100).map((id) => jitteredDelayMs(300_000, id, 2))).toEqual(ids.slice(0, 100).map((id) => jitteredDelayMs(300_000, id, 2)));
    const differ = ids.slice(0, 100).filter((id) => jitteredDelayMs(300_000, id, 2) !== jitteredDelayMs(300_000, id, 3));
    expect(differ.length).toBeGreaterThan(95);
  });

  it('applies to each delay of the schedule, and ends with it', () => {
    const id = 'dlv_example';
    const delays = [1, 2, 3, 4, 5].map((attempt) => retryDelayAfter(null, attempt, id)!);
    [60_000, 300_000, 900_000, 3_600_000, 7_200_000].forEach((scheduled, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(scheduled * (1 - RETRY_JITTER));
      expect(delays[i]).toBeLessThanOrEqual(scheduled * (1 + RETRY_JITTER));
    });
    expect(retryDelayAfter(null, 6, id)).toBeUndefined();
    expect(retryDelayAfter(['30s'], 1, id)).toBe(jitteredDelayMs(30_000, id, 1));
  });
});
