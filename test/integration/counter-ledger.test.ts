import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { StaleOutboxRead, writeCounters } from '../../src/delivery/counter-writes';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { LEDGER_SWEEP_AGE_MS, sweepLedgers } from '../../src/delivery/ledger-sweep';
import type { FirstAttemptsRecord } from '../../src/delivery/types';
import { ledgerKey } from '../../src/activities/record-delivery-outcome';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * The counters' ledger (src/delivery/counter-writes.ts): each counted change leaves a key in its
 * webhook's counters document, so a record redone applies nothing twice. A key leaves once its
 * outbox is cleared (a little later), or with the sweep when the worker that would have released
 * it was killed. Both must keep the counts what the receivers saw.
 */
describe('counter ledger: stale records and the sweep (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });
  let http: WebhookHttpClient;
  beforeAll(() => {
    http = new WebhookHttpClient({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'test' });
  });
  afterAll(() => http.close());

  const ledgerOf = async (webhookId: string) =>
    ((await ctx.harness.models.WebhookCounter.collection.findOne<{ ledger?: Record<string, unknown> }>({ _id: webhookId as never }))?.ledger ?? {}) as Record<string, unknown>;
  const delivered = async (apiKey: string, webhookId: string) =>
    (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey })).body.webhook.deliverySuccessCount as number;

  /** A page record of one first attempt, delivered, as a fan-out run `fanoutRunId` makes it. */
  function pageRecord(tenantId: string, webhookId: string, eventId: string, deliveryId: string): FirstAttemptsRecord {
    const attempt = { attempt: 1, startedAt: new Date().toISOString(), durationMs: 5, statusCode: 200, errorClass: null, error: null, response: 'ok' };
    return { tenantId, eventId, eventType: 'order.paid', fanoutRunId: `run-${eventId}`, firstPage: true, results: [{ deliveryId, webhookId, outcome: 'delivered', attempt }] };
  }

  it('a record stalled after reading an outbox, that another record finished and whose key left the ledger since, counts nothing again', async () => {
    const { harness } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: ctx.receiver.url('/stale'), events: ['order.*'] });
    const deliveryId = `dlv_stale_${Date.now()}`;
    const record = pageRecord(tenantId, webhookId, 'ledger-stale', deliveryId);

    // The first attempt of the record writes the index (its outbox), then stalls (as in an outage)
    // until released; the local activity's retry meanwhile does the whole record.
    let resume!: () => void;
    const stalled = new Promise<void>((resolve) => (resume = resolve));
    let stallOnce = true;
    const activities = createActivities({
      models: harness.models,
      secretBox: harness.secretBox,
      http,
      recordFaults: {
        afterIndexChange: async () => {
          if (!stallOnce) return;
          stallOnce = false;
          await stalled;
        },
      },
    });
    const run = () => new MockActivityEnvironment(undefined, { client: harness.client }).run(activities.recordFirstAttempts, record);
    const first = run().then(
      () => 'done',
      (err: unknown) => err,
    );
    await eventually(async () => ((await harness.models.Delivery.findById(deliveryId).lean())?.effects ? true : undefined), 30_000, 'the first attempt writing the outbox');
    await run();
    expect(await delivered(apiKey, webhookId)).toBe(1);
    expect((await harness.models.Delivery.findById(deliveryId).lean())?.effects).toBeFalsy();

    // The cleared delivery's key leaves the ledger with a later write to the webhook's counters.
    const key = ledgerKey(deliveryId, record.fanoutRunId);
    expect(Object.keys(await ledgerOf(webhookId))).toContain(key);
    await eventually(
      async () => {
        await writeCounters(harness.models, [{ tenantId, webhookId, triggeredAt: new Date() }]);
        return key in (await ledgerOf(webhookId)) ? undefined : true;
      },
      60_000,
      'the key released from the ledger',
    );

    // The stalled attempt goes on with what it read: it must not count the delivery again.
    resume();
    expect(await first).toBeInstanceOf(StaleOutboxRead);
    expect(await delivered(apiKey, webhookId)).toBe(1);
    // Its own retry reads the index again: nothing is owed.
    await run();
    expect(await delivered(apiKey, webhookId)).toBe(1);
  });

  it("two records of one delivery's change in one counter write (its workflow's, and a page record that found its outbox) count it once", async () => {
    const { harness } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: ctx.receiver.url('/twice'), events: ['order.*'] });
    const change = (readAt: number) => ({ tenantId, webhookId, outcome: 'delivered' as const, from: null, key: ledgerKey('dlv_twice', 'run-1'), deliveryId: 'dlv_twice', readAt });
    // Concurrent, as the two records of the chaos run were: both within one linger of the webhook's writes.
    await Promise.all([writeCounters(harness.models, [change(Date.now())]), writeCounters(harness.models, [change(Date.now())])]);
    expect(await delivered(apiKey, webhookId)).toBe(1);
    // And once more later (a third record): the ledger holds the key.
    await writeCounters(harness.models, [change(Date.now())]);
    expect(await delivered(apiKey, webhookId)).toBe(1);
  });

  it('the sweep removes old keys whose delivery owes nothing, and keeps those still owed or recent', async () => {
    const { harness } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: ctx.receiver.url('/sweep'), events: ['order.*'] });
    const activities = createActivities({ models: harness.models, secretBox: harness.secretBox, http });
    const env = () => new MockActivityEnvironment(undefined, { client: harness.client });
    const ids = ['a', 'b', 'c'].map((s) => `dlv_sweep_${s}_${Date.now()}`);
    for (const [i, id] of ids.entries()) await env().run(activities.recordFirstAttempts, pageRecord(tenantId, webhookId, `ledger-sweep-${i}`, id));
    expect(await delivered(apiKey, webhookId)).toBe(3);
    const keys = ids.map((id, i) => ledgerKey(id, `run-ledger-sweep-${i}`));
    // The state a worker killed before releasing them leaves: the keys stay. One delivery still owes
    // its effects (its record's retry is to come); and one key older builds wrote without a time.
    expect(Object.keys(await ledgerOf(webhookId)).sort()).toEqual([...keys].sort());
    await harness.models.Delivery.collection.updateOne({ _id: ids[1] as never }, { $set: { effectsKey: 'a-record-still-to-finish' } });
    await harness.models.WebhookCounter.collection.updateOne({ _id: webhookId as never }, { $set: { 'ledger.legacyKey': 1 } });

    // Now: nothing is old enough to go; the undated key is dated.
    await sweepLedgers(harness.models);
    expect(Object.keys(await ledgerOf(webhookId)).sort()).toEqual([...keys, 'legacyKey'].sort());
    // Later than the sweep's age: the finished ones go, the owed one stays.
    await sweepLedgers(harness.models, Date.now() + LEDGER_SWEEP_AGE_MS + 1000);
    expect(Object.keys(await ledgerOf(webhookId))).toEqual([keys[1]]);
    expect(await delivered(apiKey, webhookId)).toBe(3);
  });
});
