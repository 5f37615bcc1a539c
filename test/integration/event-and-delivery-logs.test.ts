import type { Connection } from 'mongoose';
import { deliveryListResponseSchema } from '../../src/api/schemas/delivery';
import { eventListResponseSchema } from '../../src/api/schemas/event';
import { listEvents, type EventPosition } from '../../src/events/event-list';
import { connectMongo, type Models } from '../../src/models';
import { acceptedHourOf, eventKey } from '../../src/models/event';
import { backfillAcceptedHour } from '../../src/models/hour-backfill';
import { eventually, testStack, uniqueName } from '../support/stack';
import { expectError, pathsOf, valid } from '../support/shapes';
import { useHarness } from '../support/use-harness';

/**
 * The tenant's event list (`GET /v1/events`) and delivery log (`GET /v1/deliveries`): real events
 * through real webhooks to real receivers (one answering 200, one 500 so its deliveries retry,
 * then fail), each filter, every page through cursors, counts equal to what the receivers saw,
 * nothing of another tenant, and bad queries refused.
 */
describe('event and delivery logs', () => {
  const ctx = useHarness({ receivers: 2 });
  let tenant: { apiKey: string; tenantId: string };
  let other: { apiKey: string; tenantId: string };
  let okWebhook: string;
  let failingWebhook: string;
  let otherWebhook: string;
  /** Sent in this order; ids sort in it too, so newest first is the reverse whatever acceptedAt ties. */
  const sent: { id: string; type: string }[] = [];
  const EVENTS = 14;

  beforeAll(async () => {
    tenant = await ctx.harness.createTenant('Logs');
    other = await ctx.harness.createTenant('Other');
    ctx.receivers[1].respondWith({ status: 500, body: 'down' });
    ({ webhookId: okWebhook } = await ctx.harness.createWebhook(tenant.apiKey, { url: ctx.receivers[0].url('/ok'), events: ['log.*'] }));
    ({ webhookId: failingWebhook } = await ctx.harness.createWebhook(tenant.apiKey, { url: ctx.receivers[1].url('/fail'), events: ['log.order.*'], retrySchedule: ['1s'] }));
    ({ webhookId: otherWebhook } = await ctx.harness.createWebhook(other.apiKey, { url: ctx.receivers[0].url('/other'), events: ['log.*'] }));
    for (let i = 0; i < EVENTS; i++) {
      // Four order events: 8 failed attempts in all, under the 10 that open the failing webhook's circuit.
      const event = { id: `log-${String(i).padStart(2, '0')}`, type: i % 4 ? 'log.user.created' : 'log.order.created' };
      await ctx.harness.sendEvent(tenant.apiKey, { ...event, data: { i } });
      sent.push(event);
    }
    await ctx.harness.sendEvent(other.apiKey, { id: 'log-other', type: 'log.order.created', data: {} });
    // Every delivery has ended: each event's to the 200 receiver delivered, each order event's to the 500 one failed.
    const orders = sent.filter((e) => e.type === 'log.order.created').length;
    await eventually(async () => {
      const [delivered, failed] = await Promise.all(['delivered', 'failed'].map((s) => allDeliveries(`status=${s}`)));
      return delivered.length === EVENTS && failed.length === orders ? true : undefined;
    }, 90_000, 'every delivery ended');
    // The service's own `delivery.exhausted` event of each failed delivery is the tenant's event too.
    await eventually(async () => ((await allEvents('type=delivery.exhausted&limit=100')).length === orders ? true : undefined), 30_000, 'the exhausted events');
  }, 120_000);

  const get = (path: string, token = tenant.apiKey) => ctx.harness.call('GET', path, { token });

  async function allPages<T>(path: string, query: string, key: 'events' | 'deliveries', token = tenant.apiKey): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res = await get(`${path}?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
      expect(res.status).toBe(200);
      const body = valid(key === 'events' ? eventListResponseSchema : deliveryListResponseSchema, res.body) as { nextCursor: string | null } & Record<typeof key, T[]>;
      items.push(...body[key]);
      if (!body.nextCursor) return items;
      cursor = body.nextCursor;
    }
    throw new Error('more than 100 pages');
  }
  type Summary = { id: string; eventId: string; eventType: string; webhookId: string; status: string; createdAt: string };
  type Listed = { id: string; type: string; timestamp: string; tenant_id: string; data: unknown; deliveries: Record<string, number> };
  const allEvents = (query = 'limit=5', token = tenant.apiKey) => allPages<Listed>('/v1/events', query, 'events', token);
  const allDeliveries = (query = 'limit=4', token = tenant.apiKey) => allPages<Summary>('/v1/deliveries', query, 'deliveries', token);
  const newestFirst = (list: Summary[]) => [...list].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : -1));
  /** Distinct deliveries (`webhook-id`s) a receiver path got for an event, and how many requests. */
  const seen = (receiver: number, path: string, eventId: string) => {
    const requests = ctx.receivers[receiver].requests.filter((r) => r.path === path && JSON.parse(r.body).id === eventId);
    return { deliveries: new Set(requests.map((r) => r.headers['webhook-id'])).size, requests: requests.length };
  };

  /** The events this test sent, of a list that also holds the service's operational events. */
  const ours = (events: Listed[]) => events.filter((e) => e.id.startsWith('log-'));

  it('lists the tenant\'s events newest first through every page, each with its deliveries\' counts as the receivers saw them', async () => {
    const everyOne = await allEvents('limit=100');
    expect(new Set(everyOne.map((e) => e.type))).toEqual(new Set(['log.order.created', 'log.user.created', 'delivery.exhausted']));
    for (const limit of [1, 5, 100]) {
      const events = await allEvents(`limit=${limit}`);
      expect(events.map((e) => e.id)).toEqual(everyOne.map((e) => e.id));
      expect(ours(events).map((e) => e.id)).toEqual(sent.map((e) => e.id).reverse());
    }
    expect([...everyOne].sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : a.id < b.id ? 1 : -1))).toEqual(everyOne);
    const events = ours(await allEvents());
    for (const event of events) {
      const i = Number(event.id.slice(4));
      expect(event).toMatchObject({ type: sent[i].type, tenant_id: tenant.tenantId, data: { i }, metadata: {} });
      const delivered = seen(0, '/ok', event.id);
      const failed = seen(1, '/fail', event.id);
      expect(delivered.deliveries).toBe(1);
      // The failing receiver got each of its deliveries twice (the first attempt and the 1s retry).
      expect(failed.requests).toBe(2 * failed.deliveries);
      expect(failed.deliveries).toBe(sent[i].type === 'log.order.created' ? 1 : 0);
      expect(event.deliveries).toEqual({ total: delivered.deliveries + failed.deliveries, pending: 0, retrying: 0, delivered: delivered.deliveries, failed: failed.deliveries, canceled: 0 });
    }
    // The list shows an event as its own read does.
    const read = await get(`/v1/events/${events[0].id}`);
    expect({ ...read.body.event, deliveries: events[0].deliveries }).toEqual(events[0]);
  });

  it('filters events by type and by time window', async () => {
    expect((await allEvents('type=log.user.created&limit=3')).map((e) => e.id)).toEqual(sent.filter((e) => e.type === 'log.user.created').map((e) => e.id).reverse());
    expect(await allEvents('type=log.nothing')).toEqual([]);
    const all = await allEvents('limit=100');
    // [since, until) of two accepted times: the events accepted in it, by their own timestamps.
    const since = all[9].timestamp;
    const until = all[3].timestamp;
    const inWindow = all.filter((e) => e.timestamp >= since && e.timestamp < until).map((e) => e.id);
    expect(inWindow.length).toBeGreaterThan(0);
    expect((await allEvents(`since=${since}&until=${until}&limit=2`)).map((e) => e.id)).toEqual(inWindow);
    expect((await allEvents(`since=${since}&limit=4`)).map((e) => e.id)).toEqual(all.filter((e) => e.timestamp >= since).map((e) => e.id));
  });

  it('the delivery log pages through every delivery of the tenant once, newest first', async () => {
    const deliveries = await allDeliveries();
    const orders = sent.filter((e) => e.type === 'log.order.created').length;
    expect(deliveries).toHaveLength(EVENTS + orders);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(deliveries.length);
    expect(deliveries).toEqual(newestFirst(deliveries));
    expect(new Set(deliveries.map((d) => d.webhookId))).toEqual(new Set([okWebhook, failingWebhook]));
    // The same as the per-webhook lists, together.
    const perWebhook = [];
    for (const id of [okWebhook, failingWebhook]) perWebhook.push(...(await get(`/v1/webhooks/${id}/deliveries?limit=100`)).body.deliveries);
    expect(deliveries).toEqual(newestFirst(perWebhook));
  });

  it('filters the delivery log by status, webhook, event type and time window', async () => {
    const all = await allDeliveries('limit=100');
    const failed = await allDeliveries('status=failed&limit=3');
    expect(failed).toEqual(all.filter((d) => d.status === 'failed'));
    // The failed ones are exactly the deliveries the 500 receiver got.
    expect(new Set(failed.map((d) => d.id))).toEqual(new Set(ctx.receivers[1].requests.filter((r) => r.path === '/fail').map((r) => r.headers['webhook-id'])));
    expect(failed.every((d) => d.webhookId === failingWebhook && d.eventType === 'log.order.created')).toBe(true);
    expect(await allDeliveries(`webhookId=${okWebhook}&limit=5`)).toEqual(all.filter((d) => d.webhookId === okWebhook));
    expect(await allDeliveries(`webhookId=${okWebhook}&status=failed`)).toEqual([]);
    expect(await allDeliveries('eventId=log-00&limit=1')).toEqual(all.filter((d) => d.eventId === 'log-00'));
    expect(await allDeliveries('eventType=log.user.created&limit=2')).toEqual(all.filter((d) => d.eventType === 'log.user.created'));
    const since = all[12].createdAt;
    const until = all[4].createdAt;
    expect(await allDeliveries(`since=${since}&until=${until}&limit=3`)).toEqual(all.filter((d) => d.createdAt >= since && d.createdAt < until));
    // Each listed delivery opens as itself.
    const detail = await eventually(async () => {
      const res = await get(`/v1/deliveries/${failed[0].id}`);
      return res.body.delivery.attempts.length === 2 ? res : undefined;
    }, 10_000, 'both attempts in the audit log');
    expect(detail.body.delivery).toMatchObject({ id: failed[0].id, status: 'failed', attempts: [expect.objectContaining({ statusCode: 500 }), expect.objectContaining({ statusCode: 500 })] });
  });

  it("never lists another tenant's events or deliveries", async () => {
    const events = await allEvents('limit=100');
    expect(events.map((e) => e.id)).not.toContain('log-other');
    expect(ours(events)).toHaveLength(EVENTS);
    expect(events.every((e) => e.tenant_id === tenant.tenantId)).toBe(true);
    const deliveries = await allDeliveries('limit=100');
    expect(deliveries.map((d) => d.eventId)).not.toContain('log-other');
    // Naming the other tenant's webhook finds nothing, as if it did not exist.
    expect(await allDeliveries(`webhookId=${otherWebhook}`)).toEqual([]);
    const theirs = await eventually(async () => {
      const list = await allDeliveries('limit=100', other.apiKey);
      return list.length === 1 && list[0].status === 'delivered' ? list : undefined;
    });
    expect(theirs[0]).toMatchObject({ eventId: 'log-other', webhookId: otherWebhook });
    expect((await allEvents('limit=100', other.apiKey)).map((e) => e.id)).toEqual(['log-other']);
  });

  it('refuses bad queries with 400, naming each parameter', async () => {
    const cases: [string, string, string[]][] = [
      ['/v1/events', 'since=yesterday', ['query.since']],
      ['/v1/events', 'until=2026-01-01', ['query.until']],
      ['/v1/events', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', ['query.until']],
      ['/v1/events', 'since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', ['query.until']],
      ['/v1/events', 'limit=0', ['query.limit']],
      ['/v1/events', 'limit=101', ['query.limit']],
      ['/v1/events', 'type=Not%20A%20Type', ['query.type']],
      ['/v1/events', 'cursor=x', ['query.cursor']],
      ['/v1/events', 'status=failed', ['query.status']],
      ['/v1/deliveries', 'status=lost', ['query.status']],
      ['/v1/deliveries', 'limit=abc', ['query.limit']],
      ['/v1/deliveries', 'since=2026-13-01T00:00:00Z', ['query.since']],
      ['/v1/deliveries', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00%2B05:00', ['query.until']],
      ['/v1/deliveries', 'cursor=-1.dlv_x', ['query.cursor']],
      ['/v1/deliveries', 'webhook=wh_x', ['query.webhook']],
      ['/v1/deliveries', 'eventId=a%20b', ['query.eventId']],
      // One webhook's list takes the same window.
      ['/v1/webhooks/wh_unknown/deliveries', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', ['query.until']],
    ];
    for (const [path, query, paths] of cases) {
      const res = await get(`${path}?${query}`);
      expect([path, query, res.status]).toEqual([path, query, 400]);
      expect([query, pathsOf(expectError(res, 400, 'validation_failed'))]).toEqual([query, paths]);
    }
    expect((await ctx.harness.call('GET', '/v1/events')).status).toBe(401);
    expect((await ctx.harness.call('GET', '/v1/deliveries')).status).toBe(401);
  });
});

/**
 * The event list read an hour at a time (acceptedHour), then the older events in one query:
 * whatever the spread, paging through gives every event once, newest first; events stored before
 * acceptedHour existed are given it and listed too.
 */
describe("listing a tenant's events across hours", () => {
  const HOUR = 3_600_000;
  const now = Date.now();
  let conn: Connection;
  let models: Models;
  const ages = [
    ...Array.from({ length: 30 }, (_, i) => i * 60_000),
    ...Array.from({ length: 12 }, (_, i) => 20 * HOUR + i * 2 * HOUR),
    3 * 24 * HOUR,
    3 * 24 * HOUR,
    9 * 24 * HOUR,
  ];
  const docs = ages.map((age, i) => {
    const acceptedAt = new Date(now - age);
    const eventId = `evt.${String(i).padStart(3, '0')}`;
    return { _id: eventKey('ten_1', eventId), tenantId: 'ten_1', eventId, type: i % 3 ? 'a.b' : 'a.c', data: '{}', metadata: [], bodyHash: 'h', acceptedAt, acceptedHour: acceptedHourOf(acceptedAt) };
  });
  const newestFirst = (list: typeof docs) => [...list].sort((a, b) => b.acceptedAt.getTime() - a.acceptedAt.getTime() || (a.eventId < b.eventId ? 1 : -1)).map((d) => d.eventId);

  beforeAll(async () => {
    ({ conn, models } = await connectMongo(testStack().mongodbUri(uniqueName('event-list'))));
    await models.Event.collection.insertMany([...docs, { ...docs[0], _id: eventKey('ten_2', docs[0].eventId), tenantId: 'ten_2' }] as never[]);
    await models.Delivery.insertMany(
      ['delivered', 'failed', 'failed', 'retrying'].map((status, i) => ({ _id: `dlv_${i}`, tenantId: 'ten_1', webhookId: `wh_${i}`, eventId: docs[5].eventId, eventType: 'a.b', status, createdAt: new Date(), createdHour: 1 })),
    );
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  async function allPages(filter: Parameters<typeof listEvents>[1], limit: number): Promise<string[]> {
    const ids: string[] = [];
    let after: EventPosition | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await listEvents(models, filter, limit, after);
      ids.push(...page.events.map((e) => e.id));
      if (!page.next) return ids;
      after = page.next;
    }
    throw new Error('more than 100 pages');
  }

  it.each([4, 13, 100])('pages of %i give every event once, newest first, by type and time window too', async (limit) => {
    expect(await allPages({ tenantId: 'ten_1' }, limit)).toEqual(newestFirst(docs));
    expect(await allPages({ tenantId: 'ten_1', type: 'a.c' }, limit)).toEqual(newestFirst(docs.filter((d) => d.type === 'a.c')));
    const since = new Date(now - 30 * HOUR);
    const until = new Date(now - 10 * 60_000);
    expect(await allPages({ tenantId: 'ten_1', since, until }, limit)).toEqual(newestFirst(docs.filter((d) => d.acceptedAt >= since && d.acceptedAt < until)));
  });

  it("counts an event's deliveries by status", async () => {
    const page = await listEvents(models, { tenantId: 'ten_1' }, 10);
    expect(page.events[5]).toMatchObject({ id: docs[5].eventId, deliveries: { total: 4, pending: 0, retrying: 1, delivered: 1, failed: 2, canceled: 0 } });
    expect(page.events[4].deliveries.total).toBe(0);
  });

  it('lists events stored before acceptedHour existed, once they are backfilled', async () => {
    const legacyAt = new Date(now - 2 * HOUR);
    await models.Event.collection.insertOne({ ...docs[0], _id: eventKey('ten_1', 'evt.legacy'), eventId: 'evt.legacy', acceptedAt: legacyAt, acceptedHour: undefined } as never);
    await models.Event.collection.updateOne({ _id: eventKey('ten_1', 'evt.legacy') } as never, { $unset: { acceptedHour: '' } });
    await conn.collection('migrations').deleteOne({ _id: 'events.acceptedHour' } as never);
    expect(await allPages({ tenantId: 'ten_1' }, 10)).not.toContain('evt.legacy');
    expect(await backfillAcceptedHour(conn)).toBe(1);
    expect(await backfillAcceptedHour(conn)).toBe(0);
    expect(await allPages({ tenantId: 'ten_1' }, 10)).toEqual(newestFirst([...docs, { ...docs[0], eventId: 'evt.legacy', acceptedAt: legacyAt }]));
  });
});
