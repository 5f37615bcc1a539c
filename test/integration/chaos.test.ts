import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosRun, leftoverCheck, type ChaosResult } from '../../chaos/chaos-run';
import { REFUSED } from '../../chaos/producers';
import { SMALL } from '../../chaos/settings';

/**
 * The small chaos run (the full one is `npm run chaos`): its own stack with every process
 * supervised, 200 events to 2 tenants x 3 webhooks while the worker is SIGKILLed once, FerretDB,
 * PostgreSQL's postmaster and the API are SIGKILLed (their supervisors bring them back) and the
 * receiver fails 20% of requests (500 or a hang past the timeout). Every delivery the accepted
 * events owe arrives or is recorded failed after its whole schedule, the counters agree with the
 * receiver, nothing answers 500, and nothing of the run is left running after its stop.
 */
describe('chaos (small)', () => {
  const work = mkdtempSync(join(tmpdir(), 'chaos-test-'));
  chmodSync(work, 0o755); // PostgreSQL runs as its own user under root
  const run = new ChaosRun(SMALL, work, () => undefined);
  let result: ChaosResult;
  beforeAll(async () => {
    try {
      result = await run.run();
    } finally {
      await run.stop();
    }
  }, SMALL.runCapMs + 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('loses nothing: every owed delivery was received or recorded failed', () => {
    expect(result.accepted).toBe(SMALL.events);
    // 200 events of 3 types to 3 webhooks per tenant subscribed to *, order.* and order.created|user.*
    expect(result.tally.expected).toBe(467);
    expect(result.tally.lost).toBe(0);
    expect(result.tally.delivered + result.tally.failed).toBe(result.tally.expected);
    expect(result.tally.lostSample).toEqual([]);
  });

  it('the faults happened: the worker, FerretDB, PostgreSQL and the API killed and back, the receiver failing', () => {
    expect(result.workerKills).toBe(1);
    expect(result.workerRestarts).toBeGreaterThanOrEqual(1);
    // At least once: an API restarted while PostgreSQL is still down exits at start and is restarted again.
    expect(result.apiRestarts).toBeGreaterThanOrEqual(1);
    expect(result.faultErrors).toEqual([]);
    expect(result.faults.map((f) => f.fault)).toEqual(expect.arrayContaining(['FerretDB SIGKILL', 'PostgreSQL postmaster SIGKILL, kept down 8s', 'API SIGKILL']));
    expect(result.receiver.errors).toBeGreaterThan(0);
    expect(result.receiver.hangs).toBeGreaterThan(0);
  });

  it('spends no attempt on its own outages: a delivery recorded failed made every HTTP attempt of its schedule', () => {
    expect(result.failedShort).toEqual([]);
  });

  it("counts each delivery once: the product's stats and every webhook's counters agree with the receiver", () => {
    expect(result.recorded).toEqual({ total: 467, successful: 467 - result.recorded.failed, failed: result.recorded.failed });
    expect(result.counterMismatches).toEqual([]);
  });

  it('refuses ingestion only with a prompt 503, never a 500 (or no connection while the API is killed)', () => {
    for (const [status, answers] of Object.entries(result.ingestion.answers)) {
      if (status === '202' || status === REFUSED) continue;
      expect({ status, slow: answers.maxMs > SMALL.refusalBoundMs }).toEqual({ status: '503', slow: false });
    }
    expect(result.checks.filter((c) => !c.pass)).toEqual([]);
  });

  it('leaves no process and no port of the run behind after its stop', () => {
    expect(leftoverCheck(run.leftAfterStop)).toMatchObject({ pass: true });
  });
});
