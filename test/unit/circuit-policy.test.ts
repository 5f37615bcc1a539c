import { CircuitTally, DEFAULT_CIRCUIT_POLICY, probeDelayMs } from '../../src/delivery/circuit-policy';

describe('circuit policy', () => {
  it('opens after 10 consecutive failures; a success starts the count again', () => {
    // The rate rule left out (it would open at 10 failed of 11).
    const tally = new CircuitTally({ ...DEFAULT_CIRCUIT_POLICY, failureRatePercent: 100 });
    const at = 1_000_000;
    for (let i = 0; i < 9; i++) expect(tally.add('wh', false, at + i)).toBeNull();
    expect(tally.add('wh', true, at + 9)).toBeNull();
    for (let i = 0; i < 9; i++) expect(tally.add('wh', false, at + 10 + i)).toBeNull();
    expect(tally.add('wh', false, at + 19)).toBe('10 consecutive attempts failed');
    expect(tally.add('other', false, at)).toBeNull();
  });

  it('opens at 70 % failed of at least 10 attempts in 5 minutes, counting only the window', () => {
    const tally = new CircuitTally(DEFAULT_CIRCUIT_POLICY);
    const t0 = 6_000_000;
    // 3 successes, 6 failures, a success, 3 failures: never 10 in a row, 9 failed of 13 (69 %).
    const outcomes = [true, true, true, ...Array(6).fill(false), true, false, false, false];
    const results = outcomes.map((ok, i) => tally.add('wh', ok, t0 + i * 1000));
    expect(results.every((r) => r === null)).toBe(true);
    // One more failure: 10 of 14 (71 %).
    expect(tally.add('wh', false, t0 + 14_000)).toBe('10 of the last 14 attempts failed (71 % in 5 min)');

    // Attempts older than the window no longer count: 9 failures 6 minutes ago, then a few now.
    const later = new CircuitTally(DEFAULT_CIRCUIT_POLICY);
    for (let i = 0; i < 8; i++) later.add('wh', false, t0 + i);
    later.add('wh', true, t0 + 10);
    const now = t0 + 6 * 60_000;
    expect([later.add('wh', false, now), later.add('wh', true, now + 1), later.add('wh', false, now + 2)]).toEqual([null, null, null]);
  });

  it('waits 30 s before the first probe, doubling to at most 10 minutes', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((failed) => probeDelayMs(DEFAULT_CIRCUIT_POLICY, failed))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]);
  });
});
