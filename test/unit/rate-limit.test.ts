import { TenantRateLimiter } from '../../src/api/rate-limit';

describe('per-tenant token bucket', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 0;
  });

  it('allows a burst, then one request per 1/rate seconds, and says how long to wait', () => {
    const limiter = new TenantRateLimiter({ perSecond: 2, burst: 3 }, clock);
    expect([limiter.take('t1'), limiter.take('t1'), limiter.take('t1')]).toEqual([0, 0, 0]);
    expect(limiter.take('t1')).toBe(500);
    now = 250;
    expect(limiter.take('t1')).toBe(250);
    now = 500;
    expect(limiter.take('t1')).toBe(0);
    expect(limiter.take('t1')).toBe(500);
  });

  it('keeps tenants apart', () => {
    const limiter = new TenantRateLimiter({ perSecond: 1, burst: 1 }, clock);
    expect(limiter.take('t1')).toBe(0);
    expect(limiter.take('t1')).toBeGreaterThan(0);
    expect(limiter.take('t2')).toBe(0);
  });

  it('refills no further than the burst', () => {
    const limiter = new TenantRateLimiter({ perSecond: 10, burst: 2 }, clock);
    limiter.take('t1');
    now = 60_000;
    expect([limiter.take('t1'), limiter.take('t1')]).toEqual([0, 0]);
    expect(limiter.take('t1')).toBe(100);
  });

  it('is off with a rate of 0', () => {
    const limiter = new TenantRateLimiter({ perSecond: 0, burst: 1 }, clock);
    for (let i = 0; i < 100; i++) expect(limiter.take('t1')).toBe(0);
  });

  it('forgets idle tenants without changing anyone\'s limit', () => {
    const limiter = new TenantRateLimiter({ perSecond: 1, burst: 1 }, clock);
    for (let i = 0; i < 10_001; i++) limiter.take(`t${i}`);
    now = 5_000; // every bucket is full again: equivalent to absent
    expect(limiter.take('new')).toBe(0);
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(1);
    expect(limiter.take('new')).toBe(1000);
  });
});
