import mongoose, { type Connection } from 'mongoose';
import { connectMongo, type Models } from '../../src/models';
import { countersOf, type WebhookCounterDoc } from '../../src/models/webhook-counter';
import { copyLegacyWebhookCounters } from '../../src/models/webhook-counters-copy';
import { testStack, uniqueName } from '../support/stack';

/**
 * An upgrade from the version that kept counters in the webhook document (the real
 * MongoDB-wire server): the first start copies them into `webhook_counters`, and a rerun, a
 * concurrent run or counts this version wrote meanwhile never double or lose one.
 */
describe('copy of the counters older versions kept in the webhook document', () => {
  const uri = testStack().mongodbUri(uniqueName('counters_copy'));
  const secret = { keyId: 'k1', iv: 'iv', tag: 'tag', ciphertext: 'ct' };
  const t = (minute: number) => new Date(Date.UTC(2026, 10, 29, 12, minute));
  let conn: Connection;
  let models: Models;

  /** A webhook as the older version stored it: with its counters (mongoose gave every one defaults). */
  const legacy = (id: string, counters: Record<string, unknown>) => ({
    _id: id,
    tenantId: 'ten_old',
    url: `http://127.0.0.1:9/${id}`,
    events: ['*'],
    active: true,
    timeoutSeconds: 10,
    secret,
    deliverySuccessCount: 0,
    deliveryFailureCount: 0,
    consecutiveFailureCount: 0,
    failingSince: null,
    lastTriggeredAt: null,
    ...counters,
    createdAt: t(0),
    updatedAt: t(0),
  });

  const counters = async (id: string) => countersOf(await models.WebhookCounter.findById(id).lean<WebhookCounterDoc>());
  const forgetMarker = () => conn.collection('migrations').deleteOne({ _id: 'webhooks.counters' as never });

  beforeAll(async () => {
    // The database as the older version left it, before this version first connects.
    const old = await mongoose.createConnection(uri).asPromise();
    await old.collection('webhooks').insertMany([
      legacy('wh_busy', { deliverySuccessCount: 41, deliveryFailureCount: 7, consecutiveFailureCount: 3, failingSince: t(10), lastTriggeredAt: t(20) }),
      legacy('wh_idle', {}),
    ] as never[]);
    await old.close();
    ({ conn, models } = await connectMongo(uri));
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  it('the first start copies every webhook\'s counters, and the API fields read them', async () => {
    expect(await counters('wh_busy')).toEqual({ deliverySuccessCount: 41, deliveryFailureCount: 7, consecutiveFailureCount: 3, failingSince: t(10), lastTriggeredAt: t(20) });
    expect(await counters('wh_idle')).toEqual({ deliverySuccessCount: 0, deliveryFailureCount: 0, consecutiveFailureCount: 0, failingSince: null, lastTriggeredAt: null });
    // The webhook documents keep the old fields: a rollback finds them as they were.
    expect(await conn.collection('webhooks').findOne({ _id: 'wh_busy' as never })).toMatchObject({ deliverySuccessCount: 41 });
    expect(await conn.collection('migrations').findOne({ _id: 'webhooks.counters' as never })).toMatchObject({ doneAt: expect.any(Date) });
  });

  it('a later start does nothing; a rerun without the marker copies nothing twice', async () => {
    expect(await copyLegacyWebhookCounters(conn)).toBe(0);
    await forgetMarker();
    expect(await copyLegacyWebhookCounters(conn)).toBe(0);
    expect(await counters('wh_busy')).toMatchObject({ deliverySuccessCount: 41, deliveryFailureCount: 7, consecutiveFailureCount: 3 });
  });

  it('processes copying at once, while this version already counts, copy each webhook once and add to its new counts', async () => {
    await conn.collection('webhooks').insertMany([
      legacy('wh_late_1', { deliverySuccessCount: 10, lastTriggeredAt: t(5) }),
      legacy('wh_late_2', { deliveryFailureCount: 4, consecutiveFailureCount: 4, failingSince: t(30) }),
    ] as never[]);
    // This version delivered to both before their copy: one success, one failure that began later.
    await models.WebhookCounter.insertMany([
      { _id: 'wh_late_1', tenantId: 'ten_old', deliverySuccessCount: 1, lastTriggeredAt: t(40) },
      { _id: 'wh_late_2', tenantId: 'ten_old', deliveryFailureCount: 1, consecutiveFailureCount: 1, failingSince: t(45) },
    ]);
    await forgetMarker();
    await Promise.all([copyLegacyWebhookCounters(conn), copyLegacyWebhookCounters(conn), copyLegacyWebhookCounters(conn)]);
    expect(await counters('wh_late_1')).toEqual({ deliverySuccessCount: 11, deliveryFailureCount: 0, consecutiveFailureCount: 0, failingSince: null, lastTriggeredAt: t(40) });
    expect(await counters('wh_late_2')).toEqual({ deliverySuccessCount: 0, deliveryFailureCount: 5, consecutiveFailureCount: 5, failingSince: t(30), lastTriggeredAt: null });
    expect(await counters('wh_busy')).toMatchObject({ deliverySuccessCount: 41 });
  });
});
