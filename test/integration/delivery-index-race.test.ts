import { clearEffects, finishDelivery, recordDeliveries, type IndexedDelivery } from '../../src/delivery-records/delivery-index';
import { newId } from '../../src/ids';
import { useHarness } from '../support/use-harness';

/**
 * A retried delivery can end before the fan-out's page record that lists it as retrying is
 * written, or while it is: under load the two writes meet. Whichever lands first, the index must
 * end with the delivery's final status, and the end must count as new exactly once (its outbox owes
 * the counters). An upsert is a read and then an insert (on FerretDB, two statements), so the page
 * record's insert can land between the two and fail the upsert with a duplicate key.
 */
describe('deliveries index: a retried delivery ending while its page record is written (MongoDB-wire server)', () => {
  const ctx = useHarness();

  it('ends failed, counted once, whichever write lands first', async () => {
    const ids = Array.from({ length: 300 }, () => newId('dlv'));
    const now = new Date();
    const retrying = (id: string): IndexedDelivery => ({
      id,
      tenantId: 'ten_race',
      webhookId: 'wh_race',
      eventId: `evt_${id}`,
      eventType: 'race.test',
      status: 'retrying',
      attempts: 1,
      durationMs: null,
      reason: 'HTTP 500',
      nextAttemptAt: now,
      fanoutRunId: 'run',
      retried: false,
      createdAt: now,
      completedAt: null,
    });
    const end = (id: string) =>
      finishDelivery(
        ctx.harness.models,
        id,
        { tenantId: 'ten_race', webhookId: 'wh_race', eventId: `evt_${id}`, eventType: 'race.test', outcome: 'failed', attempts: 2, durationMs: null, reason: 'HTTP 500', startedAt: now, runId: 'run-2', lastError: 'HTTP 500' },
        now,
      );

    // Each delivery's end and its page record at once, all pages at once.
    const counted = await Promise.all(
      ids.map(async (id, i) => {
        const record = () => recordDeliveries(ctx.harness.models, [retrying(id)]);
        // Either write may start first.
        if (i % 2) return (await Promise.all([end(id), record()]))[0];
        return (await Promise.all([record(), end(id)]))[1];
      }),
    );

    const docs = await ctx.harness.models.Delivery.find({ _id: { $in: ids } }).select({ status: 1, attempts: 1 }).lean();
    expect(docs).toHaveLength(ids.length);
    expect(docs.filter((d) => d.status !== 'failed').map((d) => `${d._id}: ${d.status}`)).toEqual([]);
    expect(docs.every((d) => d.attempts === 2)).toBe(true);
    expect(counted.filter((c) => c.kind !== 'finished')).toHaveLength(0);

    // Recorded again (a retried local activity): nothing is new, and what the end owes is still owed.
    expect((await Promise.all(ids.map(end))).map((r) => r.kind)).toEqual(ids.map(() => 'pending'));
    // Once its effects are done (outbox cleared), a replay finds nothing to do.
    // 16 at a time: FerretDB v1 holds a query's connection through its write, and hundreds of
    // concurrent updates of one client exhaust its PostgreSQL pool and wait on each other.
    for (let i = 0; i < ids.length; i += 16) await Promise.all(ids.slice(i, i + 16).map((id) => clearEffects(ctx.harness.models, id, 'run-2')));
    expect((await Promise.all(ids.map(end))).map((r) => r.kind)).toEqual(ids.map(() => 'done'));
  });
});
