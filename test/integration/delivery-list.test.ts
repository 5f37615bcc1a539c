import type { Connection } from 'mongoose';
import { listDeliveries, type DeliveryFilter, type DeliveryPosition } from '../../src/delivery-records/delivery-list';
import { connectMongo, type Models } from '../../src/models';
import { backfillCreatedHour } from '../../src/models/hour-backfill';
import { createdHourOf } from '../../src/models/delivery';
import { testStack, uniqueName } from '../support/stack';

/**
 * A webhook's deliveries are read an hour at a time (createdHour), then the older ones in one
 * query: whatever the spread, paging through gives every delivery once, newest first, exactly
 * as one sort of them all would, filters and time range included; deliveries indexed before
 * createdHour existed are given it and listed too.
 */
describe('listing a webhook\'s deliveries', () => {
  const HOUR = 3_600_000;
  const now = Date.now();
  let conn: Connection;
  let models: Models;
  const statuses = ['delivered', 'failed', 'retrying'] as const;
  // A dense last hour, gaps, a sparse day, a few old ones (past the hours walked), and two at one instant.
  const ages = [
    ...Array.from({ length: 40 }, (_, i) => i * 60_000),
    ...Array.from({ length: 10 }, (_, i) => 5 * HOUR + i * 1000),
    ...Array.from({ length: 12 }, (_, i) => 20 * HOUR + i * 2 * HOUR),
    3 * 24 * HOUR,
    3 * 24 * HOUR,
    9 * 24 * HOUR,
  ];
  const docs = ages.map((age, i) => {
    const createdAt = new Date(now - age);
    return { _id: `dlv_${String(i).padStart(3, '0')}`, tenantId: 'ten_1', webhookId: 'wh_1', eventId: `evt_${i}`, eventType: i % 4 ? 'invoice.created' : 'invoice.paid', status: statuses[i % 3], createdAt, createdHour: createdHourOf(createdAt) };
  });
  const newestFirst = (list: typeof docs) => [...list].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : -1)).map((d) => d._id);

  beforeAll(async () => {
    ({ conn, models } = await connectMongo(testStack().mongodbUri(uniqueName('delivery-list'))));
    await models.Delivery.insertMany(docs);
    // Another webhook's and another tenant's deliveries never show.
    await models.Delivery.insertMany([
      { ...docs[0], _id: 'dlv_other_webhook', webhookId: 'wh_2' },
      { ...docs[0], _id: 'dlv_other_tenant', tenantId: 'ten_2' },
    ]);
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  async function allPages(filter: DeliveryFilter, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let after: DeliveryPosition | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await listDeliveries(models, filter, limit, after);
      ids.push(...page.deliveries.map((d) => d.id));
      if (!page.next) return ids;
      after = page.next;
    }
    throw new Error('more than 100 pages');
  }

  it.each([7, 25, 100])('pages of %i give every delivery once, newest first', async (limit) => {
    expect(await allPages({ tenantId: 'ten_1', webhookId: 'wh_1' }, limit)).toEqual(newestFirst(docs));
  });

  it('filters by status and event type, and by time range', async () => {
    expect(await allPages({ tenantId: 'ten_1', webhookId: 'wh_1', status: 'failed' }, 4)).toEqual(newestFirst(docs.filter((d) => d.status === 'failed')));
    expect(await allPages({ tenantId: 'ten_1', webhookId: 'wh_1', eventType: 'invoice.paid' }, 3)).toEqual(newestFirst(docs.filter((d) => d.eventType === 'invoice.paid')));
    const since = new Date(now - 30 * HOUR);
    const until = new Date(now - 10 * 60_000);
    expect(await allPages({ tenantId: 'ten_1', webhookId: 'wh_1', since, until }, 6)).toEqual(newestFirst(docs.filter((d) => d.createdAt >= since && d.createdAt < until)));
  });

  it("the tenant's delivery log pages the same way: all its webhooks, by status, never another tenant's", async () => {
    const tenants = [...docs, { ...docs[0], _id: 'dlv_other_webhook', webhookId: 'wh_2' }];
    expect(await allPages({ tenantId: 'ten_1' }, 9)).toEqual(newestFirst(tenants));
    expect(await allPages({ tenantId: 'ten_1', status: 'failed' }, 5)).toEqual(newestFirst(tenants.filter((d) => d.status === 'failed')));
    const since = new Date(now - 30 * HOUR);
    expect(await allPages({ tenantId: 'ten_1', since }, 8)).toEqual(newestFirst(tenants.filter((d) => d.createdAt >= since)));
  });

  it('lists deliveries indexed before createdHour existed, once they are backfilled', async () => {
    const legacyAt = new Date(now - 2 * HOUR);
    await models.Delivery.collection.insertOne({ _id: 'dlv_legacy', tenantId: 'ten_1', webhookId: 'wh_1', eventId: 'evt_legacy', eventType: 'invoice.created', status: 'delivered', createdAt: legacyAt } as never);
    await conn.collection('migrations').deleteOne({ _id: 'deliveries.createdHour' } as never);
    expect(await backfillCreatedHour(conn)).toBe(1);
    expect(await backfillCreatedHour(conn)).toBe(0);
    const ids = await allPages({ tenantId: 'ten_1', webhookId: 'wh_1' }, 10);
    expect(ids).toEqual(newestFirst([...docs, { ...docs[0], _id: 'dlv_legacy', createdAt: legacyAt }]));
    await models.Delivery.deleteOne({ _id: 'dlv_legacy' });
  });
});
