import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosRun, type ChaosResult } from '../../chaos/chaos-run';
import { SMALL } from '../../chaos/settings';

/**
 * The small chaos run (the full one is `npm run chaos`): its own stack with the API and worker
 * supervised, 200 events to 2 tenants x 3 webhooks while the worker is SIGKILLed once, FerretDB
 * is killed for a few seconds and the receiver fails 20% of requests (500 or a hang past the
 * timeout). Every delivery the accepted events owe arrives or is recorded failed: none is lost.
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

  it('the faults happened: a worker killed and restarted, the database down, the receiver failing', () => {
    expect(result.workerKills).toBe(1);
    expect(result.workerRestarts).toBeGreaterThanOrEqual(1);
    expect(result.faults.map((f) => f.fault)).toContain(`FerretDB killed and kept down for ${SMALL.databaseStop!.forMs / 1000}s`);
    expect(result.receiver.errors).toBeGreaterThan(0);
    expect(result.receiver.hangs).toBeGreaterThan(0);
  });

  it("records each delivery once in the product's counts, and refuses ingestion only with a prompt 503", () => {
    expect(result.recorded).toEqual({ total: 467, successful: 467 - result.recorded.failed, failed: result.recorded.failed });
    for (const [status, answers] of Object.entries(result.ingestion.answers)) {
      if (status === '202') continue;
      expect({ status, slow: answers.maxMs > SMALL.refusalBoundMs }).toEqual({ status: '503', slow: false });
    }
    expect(result.checks.filter((c) => !c.pass)).toEqual([]);
  });
});
