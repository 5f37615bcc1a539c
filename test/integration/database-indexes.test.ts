import type { Connection } from 'mongoose';
import { patternsMatching } from '../../src/events/event-type';
import { createdHourOf, hourStart } from '../../src/models/delivery';
import { eventKey } from '../../src/models/event';
import { connectMongo, type Models } from '../../src/models';
import { eventually, testStack, uniqueName } from '../support/stack';

/**
 * Every query on a hot path uses an index or `_id` on a collection of 10,000 webhooks of 100
 * tenants, read from the server's own `explain`: on MongoDB its winning plan, on FerretDB the
 * PostgreSQL plan of the SQL it pushes down. And the unique keys the code relies on are
 * enforced by the database itself.
 */
describe('database indexes', () => {
  const TENANTS = 100;
  const WEBHOOKS = 10_000;
  let conn: Connection;
  let models: Models;
  const created = new Date();
  const hour = createdHourOf(created);

  beforeAll(async () => {
    ({ conn, models } = await connectMongo(testStack().mongodbUri(uniqueName('indexes'))));
    const secret = { keyId: 'k1', iv: 'iv', tag: 'tag', ciphertext: 'ct' };
    const now = Date.now();
    for (let start = 0; start < WEBHOOKS; start += 1000) {
      const docs = Array.from({ length: 1000 }, (_, j) => {
        const i = start + j;
        return {
          _id: `wh_${String(i).padStart(5, '0')}`,
          tenantId: `ten_${i % TENANTS}`,
          url: `https://receiver.example/${i}`,
          events: i % 3 === 0 ? ['invoice.*'] : ['invoice.created', 'customer.updated'],
          active: i % 10 !== 0,
          timeoutSeconds: 10,
          secret,
          createdAt: new Date(now - i * 1000),
        };
      });
      await models.Webhook.collection.insertMany(docs as never[], { ordered: false });
      await models.WebhookCounter.collection.insertMany(docs.map(({ _id, tenantId }) => ({ _id, tenantId, deliverySuccessCount: 1 })) as never[], { ordered: false });
    }
    for (let start = 0; start < WEBHOOKS; start += 1000) {
      await models.Delivery.collection.insertMany(
        Array.from({ length: 1000 }, (_, j) => {
          const i = start + j;
          return {
            _id: `dlv_${i}`,
            tenantId: `ten_${i % TENANTS}`,
            webhookId: `wh_${String(i % 1000).padStart(5, '0')}`,
            eventId: `evt_${Math.floor(i / 10)}`,
            eventType: 'invoice.created',
            status: 'delivered',
            attempts: 1,
            createdAt: created,
            createdHour: hour,
          };
        }) as never[],
      );
    }
    await models.ApiKey.collection.insertMany(
      Array.from({ length: 1000 }, (_, i) => ({ _id: `key_${i}`, tenantId: `ten_${i % TENANTS}`, lookup: `lk_${i}`, hash: 'h', revokedAt: null })) as never[],
    );
    await models.Tenant.collection.insertMany(
      Array.from({ length: 1000 }, (_, i) => ({
        _id: `ten_${i}`,
        name: `Tenant ${i}`,
        nameKey: `tenant ${i}`,
        state: i % 10 === 9 ? 'deleted' : 'live',
        deletedAt: i % 10 === 9 ? new Date() : null,
        createdAt: new Date(now - i * 1000),
        updatedAt: new Date(now - i * 1000),
      })) as never[],
    );
    await models.Event.collection.insertMany(
      Array.from({ length: 1000 }, (_, i) => ({
        _id: eventKey(`ten_${i % TENANTS}`, `evt_${i}`),
        tenantId: `ten_${i % TENANTS}`,
        eventId: `evt_${i}`,
        type: 'invoice.created',
        data: '{}',
        bodyHash: 'x',
        acceptedAt: created,
        acceptedHour: hour,
      })) as never[],
    );
  }, 300_000);

  afterAll(async () => {
    await conn?.db?.dropDatabase();
    await conn?.close();
  });

  /** The plan of `filter` on `collection`, flattened to the names of its steps. */
  async function planSteps(collection: string, filter: Record<string, unknown>, sort: Record<string, number> | null): Promise<string[]> {
    const explain = await conn.db!.command({ explain: { find: collection, filter, ...(sort ? { sort } : {}), limit: 101 }, verbosity: 'queryPlanner' });
    const steps: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        // MongoDB names plan stages `stage`; PostgreSQL (under FerretDB) names them `Node Type`.
        if ((key === 'stage' || key === 'Node Type') && typeof value === 'string') steps.push(value);
        walk(value);
      }
    };
    walk(explain.queryPlanner);
    return steps;
  }

  const usesIndex = (steps: string[]) =>
    steps.some((s) => /IXSCAN|IDHACK|EXPRESS|Index Scan|Index Only Scan|Bitmap Index Scan/.test(s)) && !steps.some((s) => /COLLSCAN|Seq Scan/.test(s));

  // Exactly the filters of the code paths named in each case.
  // Four values in every row: jest takes a test function with more parameters than the row for
  // one that waits for `done`.
  const hotQueries: [string, string, Record<string, unknown>, Record<string, number> | null][] = [
    ['API-key lookup (api/auth.ts)', 'apikeys', { lookup: 'lk_17', revokedAt: null }, null],
    ['webhook match (activities/match-webhooks.ts)', 'webhooks', { tenantId: 'ten_7', active: true, events: { $in: patternsMatching('invoice.created') } }, { _id: 1 }],
    ['webhook read (api/routes/webhooks.ts, activities/deliver.ts)', 'webhooks', { _id: 'wh_00042', tenantId: 'ten_42' }, null],
    ['event read (api/routes/events.ts, activities/deliver.ts)', 'events', { _id: eventKey('ten_5', 'evt_5') }, null],
    ['counter update (delivery/counter-writes.ts)', 'webhook_counters', { _id: 'wh_00042', tenantId: 'ten_42' }, null],
    ['auto-disable (delivery/webhook-health.ts)', 'webhooks', { _id: 'wh_00042', tenantId: 'ten_42', active: true }, null],
    ['webhook list page (api/routes/webhooks.ts)', 'webhooks', { tenantId: 'ten_3' }, { createdAt: -1, _id: -1 }],
    ["a webhook list page's counters (api/routes/webhooks.ts)", 'webhook_counters', { _id: { $in: ['wh_00003', 'wh_00103', 'wh_00203'] }, tenantId: 'ten_3' }, null],
    ['active webhook count (api/routes/stats.ts)', 'webhooks', { tenantId: 'ten_3', active: true }, null],
    ['delivery read (delivery-records/delivery-reader.ts)', 'deliveries', { _id: 'dlv_42', tenantId: 'ten_42' }, null],
    ['recorded deliveries of a fan-out page (activities/match-webhooks.ts)', 'deliveries', { tenantId: 'ten_7', eventId: 'evt_7', _id: { $in: ['dlv_70', 'dlv_71'] } }, null],
    ["a webhook's deliveries (delivery-records/delivery-list.ts)", 'deliveries', { tenantId: 'ten_42', webhookId: 'wh_00042' }, { createdAt: -1, _id: -1 }],
    [
      "an hour of a webhook's deliveries (delivery-records/delivery-list.ts)",
      'deliveries',
      { tenantId: 'ten_42', webhookId: 'wh_00042', createdHour: hour, createdAt: { $gte: hourStart(hour), $lt: hourStart(hour + 1) } },
      { createdAt: -1, _id: -1 },
    ],
    [
      "an hour of the tenant's delivery log (GET /v1/deliveries; delivery-records/delivery-list.ts)",
      'deliveries',
      { tenantId: 'ten_42', createdHour: hour, createdAt: { $gte: hourStart(hour), $lt: hourStart(hour + 1) } },
      { createdAt: -1, _id: -1 },
    ],
    [
      "an hour of the tenant's failed deliveries (GET /v1/deliveries?status=failed)",
      'deliveries',
      { tenantId: 'ten_42', status: 'failed', createdHour: hour, createdAt: { $gte: hourStart(hour), $lt: hourStart(hour + 1) } },
      { createdAt: -1, _id: -1 },
    ],
    ["the tenant's older deliveries (after the hours walked)", 'deliveries', { tenantId: 'ten_42', createdAt: { $lt: hourStart(hour - 24) } }, { createdAt: -1, _id: -1 }],
    [
      "an hour of the tenant's events (GET /v1/events; events/event-list.ts)",
      'events',
      { tenantId: 'ten_42', acceptedHour: hour, acceptedAt: { $gte: hourStart(hour), $lt: hourStart(hour + 1) } },
      { acceptedAt: -1, eventId: -1 },
    ],
    [
      "an hour of the tenant's events of one type (GET /v1/events?type=)",
      'events',
      { tenantId: 'ten_42', type: 'invoice.created', acceptedHour: hour, acceptedAt: { $gte: hourStart(hour), $lt: hourStart(hour + 1) } },
      { acceptedAt: -1, eventId: -1 },
    ],
    ["an event's deliveries' statuses, for its counts (events/event-list.ts)", 'deliveries', { tenantId: 'ten_7', eventId: 'evt_7' }, null],
    ['admin tenant list page (api/routes/admin-tenants.ts)', 'tenants', { state: 'live' }, { createdAt: -1, _id: -1 }],
    ['admin tenant search by name (api/routes/admin-tenants.ts)', 'tenants', { state: 'live', nameKey: { $regex: '^tenant 12' } }, { createdAt: -1, _id: -1 }],
  ];

  it.each(hotQueries)('%s uses an index', async (_name, collection, filter, sort) => {
    // On FerretDB the GIN companions of new indexes appear within seconds (scripts/ferretdb).
    const steps = await eventually(async () => {
      const s = await planSteps(collection, filter, sort);
      return usesIndex(s) ? s : undefined;
    }, 20_000, `an index plan for ${JSON.stringify(filter)}`);
    expect(usesIndex(steps)).toBe(true);
  });

  it('the hot queries return the right documents', async () => {
    const matched = await models.Webhook.find({ tenantId: 'ten_7', active: true, events: { $in: patternsMatching('invoice.created') } })
      .sort({ _id: 1 })
      .lean();
    // Tenant 7 has webhooks 7, 107, ..., 9907: all subscribed to invoice.created, all active (none is a multiple of 10).
    expect(matched.map((w) => w._id)).toEqual(Array.from({ length: 100 }, (_, k) => `wh_${String(7 + 100 * k).padStart(5, '0')}`));
    const key = await models.ApiKey.findOne({ lookup: 'lk_17', revokedAt: null }).lean();
    expect(key?.tenantId).toBe('ten_17');
  });

  it('the database itself rejects a second event with the same id, and a second API key with the same lookup', async () => {
    const doc = { _id: eventKey('ten_1', 'evt_dup'), tenantId: 'ten_1', eventId: 'evt_dup', type: 'a.b', data: '{}', bodyHash: 'x', acceptedAt: new Date() };
    await models.Event.collection.insertOne(doc as never);
    await expect(models.Event.collection.insertOne({ ...doc, bodyHash: 'y' } as never)).rejects.toMatchObject({ code: 11000 });
    expect(await models.Event.countDocuments({ _id: doc._id })).toBe(1);

    await expect(
      models.ApiKey.collection.insertOne({ _id: 'key_other', tenantId: 'ten_2', lookup: 'lk_17', hash: 'h', revokedAt: null } as never),
    ).rejects.toMatchObject({ code: 11000 });
  });
});
