import type { Connection } from 'mongoose';
import { writeCounters, type CounterChange } from '../../src/delivery/counter-writes';
import { connectMongo, type Models } from '../../src/models';
import type { WebhookDoc } from '../../src/models/webhook';
import { countersOf, type WebhookCounterDoc } from '../../src/models/webhook-counter';
import { testStack, uniqueName } from '../support/stack';

/**
 * The webhook counters on the real MongoDB-wire server under concurrent writes: many deliveries
 * of one webhook finishing at once (merged into few updates) and of many webhooks at once (written
 * in parallel) leave exact counts, the failure streak of the last outcomes and the latest
 * trigger time, in the webhook's counters document (the webhook document is never written).
 * FerretDB applies updates as read-modify-write, so any overlap of two writes to one webhook
 * would lose counts here.
 */
describe('webhook counters', () => {
  let conn: Connection;
  let models: Models;
  const tenantId = 'ten_counters';
  const secret = { keyId: 'k1', iv: 'iv', tag: 'tag', ciphertext: 'ct' };

  beforeAll(async () => {
    ({ conn, models } = await connectMongo(testStack().mongodbUri(uniqueName('counters'))));
  });
  afterAll(() => conn.close());

  async function webhooks(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `wh_counters_${Date.now()}_${i}`);
    await models.Webhook.insertMany(ids.map((_id) => ({ _id, tenantId, url: `https://receiver.example/${_id}`, events: ['*'], timeoutSeconds: 10, secret })));
    return ids;
  }

  const read = async (id: string) => countersOf(await models.WebhookCounter.findById(id).lean<WebhookCounterDoc>());
  const at = (second: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, second));

  it('counts every one of 60 concurrent outcomes of one webhook, the streak being what followed the last success', async () => {
    const [id] = await webhooks(1);
    const change = (outcome: 'delivered' | 'failed', second: number): CounterChange => ({ tenantId, webhookId: id, outcome, failedSince: at(second), triggeredAt: at(second) });
    const changes = [
      ...Array.from({ length: 40 }, (_, i) => change('delivered', i)),
      ...Array.from({ length: 12 }, (_, i) => change('failed', 40 + i)),
      change('delivered', 52),
      ...Array.from({ length: 7 }, (_, i) => change('failed', 53 + i)),
    ];
    // Each its own call, all at once, as 60 concurrent activities would.
    const before = (await models.Webhook.findById(id).lean<WebhookDoc>()) as WebhookDoc;
    const returned = await Promise.all(changes.map((c) => writeCounters(models, [c])));
    const doc = await read(id);
    // The last write returned the counters as they are now: auto-disable decides on them, without a read.
    expect(returned.map(([c]) => c?.deliverySuccessCount ?? 0).sort((a, b) => a - b).at(-1)).toBe(41);
    // The webhook document itself was not written.
    expect(await models.Webhook.findById(id).lean<WebhookDoc>()).toEqual(before);
    expect(doc.deliverySuccessCount).toBe(41);
    expect(doc.deliveryFailureCount).toBe(19);
    expect(doc.consecutiveFailureCount).toBe(7);
    expect(doc.failingSince).toEqual(at(53));
    expect(doc.lastTriggeredAt).toEqual(at(59));
  });

  it('a streak of failures only adds to the streak, and keeps the time it began', async () => {
    const [id] = await webhooks(1);
    await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'failed', failedSince: at(1) }]);
    await Promise.all(Array.from({ length: 5 }, (_, i) => writeCounters(models, [{ tenantId, webhookId: id, outcome: 'failed', failedSince: at(10 + i) }])));
    const doc = await read(id);
    expect(doc.deliveryFailureCount).toBe(6);
    expect(doc.consecutiveFailureCount).toBe(6);
    expect(doc.failingSince).toEqual(at(1));
    expect(doc.deliverySuccessCount).toBe(0);
  });

  it('a success after failures ends the streak: no failing start, and the next failure starts a new one', async () => {
    const [id] = await webhooks(1);
    await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'failed', failedSince: at(1) }]);
    // Successes alone leave auto-disable nothing to decide: their write returns no counters.
    expect(await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'delivered' }])).toEqual([null]);
    expect(await read(id)).toMatchObject({ deliverySuccessCount: 1, deliveryFailureCount: 1, consecutiveFailureCount: 0, failingSince: null });
    const [afterFailure] = await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'failed', failedSince: at(30) }]);
    expect(afterFailure).toMatchObject({ deliveryFailureCount: 2, consecutiveFailureCount: 1, failingSince: at(30) });
    expect(await read(id)).toEqual(afterFailure);
  });

  it('writes 200 webhooks of a page at once, while the webhooks are edited', async () => {
    const ids = await webhooks(200);
    const page = ids.map((webhookId, i): CounterChange => ({ tenantId, webhookId, outcome: i % 4 === 0 ? 'failed' : 'delivered', failedSince: at(i % 60), triggeredAt: at(i % 60) }));
    const edits = ids.slice(0, 20).map((id) => models.Webhook.updateOne({ _id: id }, { $set: { description: `edited ${id}` } }));
    await Promise.all([writeCounters(models, page), writeCounters(models, page), ...edits]);
    const docs = await models.WebhookCounter.find({ tenantId, _id: { $in: ids } }).lean<WebhookCounterDoc[]>();
    const byId = new Map(docs.map((d) => [d._id, countersOf(d)]));
    ids.forEach((id, i) => {
      const doc = byId.get(id);
      const failed = i % 4 === 0;
      expect([id, doc?.deliverySuccessCount, doc?.deliveryFailureCount, doc?.consecutiveFailureCount]).toEqual([id, failed ? 0 : 2, failed ? 2 : 0, failed ? 2 : 0]);
      expect(doc?.lastTriggeredAt).toEqual(at(i % 60));
    });
    // No edit was put back by a counter write.
    const edited = await models.Webhook.find({ _id: { $in: ids.slice(0, 20) } }).lean<WebhookDoc[]>();
    expect(edited.map((w) => w.description).sort()).toEqual(ids.slice(0, 20).map((id) => `edited ${id}`).sort());
  });

  it('applies a keyed change once: a change redone after it was written (alone or in a batch with new ones) counts nothing twice', async () => {
    const [id] = await webhooks(1);
    const failed: CounterChange = { tenantId, webhookId: id, outcome: 'failed', from: null, key: 'k-failed', failedSince: at(1) };
    expect(await writeCounters(models, [failed])).toEqual([expect.objectContaining({ deliveryFailureCount: 1, consecutiveFailureCount: 1 })]);
    // The record failed after this write and is redone: alone, then merged with a new change.
    const [again] = await writeCounters(models, [failed]);
    expect(again).toMatchObject({ deliveryFailureCount: 1, consecutiveFailureCount: 1 });
    await writeCounters(models, [failed, { tenantId, webhookId: id, outcome: 'delivered', from: null, key: 'k-other' }]);
    expect(await read(id)).toMatchObject({ deliverySuccessCount: 1, deliveryFailureCount: 1, consecutiveFailureCount: 0 });
  });

  it('counts deliveries, not outcomes: a failed delivery requeued to success moves from failed to delivered', async () => {
    const [id] = await webhooks(1);
    await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'failed', from: null, key: 'run-1', failedSince: at(1) }]);
    await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'delivered', from: 'failed', key: 'run-2' }]);
    expect(await read(id)).toMatchObject({ deliverySuccessCount: 1, deliveryFailureCount: 0, consecutiveFailureCount: 0, failingSince: null });
    // The same change redone moves nothing more.
    await writeCounters(models, [{ tenantId, webhookId: id, outcome: 'delivered', from: 'failed', key: 'run-2' }]);
    expect(await read(id)).toMatchObject({ deliverySuccessCount: 1, deliveryFailureCount: 0 });
  });
});
