import {
  webhookCreatedResponseSchema,
  webhookListResponseSchema,
  webhookResponseSchema,
} from '../../src/api/schemas/webhook';
import { eventAcceptedResponseSchema } from '../../src/api/schemas/event';
import { eventTypeListResponseSchema } from '../../src/api/schemas/event-type';
import { storedWebhook } from '../support/stored-webhook';
import { useHarness } from '../support/use-harness';
import { expectError, pathsOf, valid } from '../support/shapes';

describe('webhooks API', () => {
  const ctx = useHarness({ worker: false });
  let apiKey: string;
  let tenantId: string;
  const call = (method: string, path: string, body?: unknown) => ctx.harness.call(method, path, { token: apiKey, body });
  const create = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'], ...body });
    expect(res.status).toBe(201);
    return valid(webhookCreatedResponseSchema, res.body).webhook;
  };

  // Receiver-less tests use loopback URLs (allowed in the harness): no DNS lookups, no traffic.
  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Webhooks'));
  });

  it('creates a webhook with its defaults, shows the secret once and keeps it encrypted', async () => {
    const webhook = await create({ url: 'http://127.0.0.1:9/billing', events: ['invoice.*', 'payment.succeeded'] });
    expect(webhook).toMatchObject({
      url: 'http://127.0.0.1:9/billing',
      events: ['invoice.*', 'payment.succeeded'],
      description: null,
      active: true,
      headers: {},
      sensitiveHeaders: [],
      retrySchedule: null,
      timeoutSeconds: 5, // the harness's DELIVERY_TIMEOUT_SECONDS
      metadata: {},
      deliverySuccessCount: 0,
      deliveryFailureCount: 0,
      lastTriggeredAt: null,
      disabledReason: null,
    });
    expect(webhook.secret).toMatch(/^whsec_/);
    const stored = await ctx.harness.models.Webhook.findById(webhook.id).lean();
    expect(JSON.stringify(stored)).not.toContain(webhook.secret.slice(6));
    expect(stored!.secret.keyId).toBe('test');

    const read = await call('GET', `/v1/webhooks/${webhook.id}`);
    expect(read.status).toBe(200);
    // The same webhook, without its secret (the strict schema refuses any extra field).
    expect({ ...valid(webhookResponseSchema, read.body).webhook, secret: webhook.secret }).toEqual(webhook);
  });

  it('stores every field given, and never shows the value of a credential header', async () => {
    const webhook = await create({
      description: 'CRM sync',
      active: false,
      headers: { 'X-Team': 'crm', Authorization: 'Bearer receiver-token-123' },
      retrySchedule: ['30s', '5m'],
      timeoutSeconds: 30,
      metadata: { 'owner.email': 'a@example.com', $weird: 'kept' },
    });
    expect(webhook).toMatchObject({
      description: 'CRM sync',
      active: false,
      headers: { 'X-Team': 'crm' },
      sensitiveHeaders: ['Authorization'],
      retrySchedule: ['30s', '5m'],
      timeoutSeconds: 30,
      metadata: { 'owner.email': 'a@example.com', $weird: 'kept' },
    });
    const read = await call('GET', `/v1/webhooks/${webhook.id}`);
    const list = await call('GET', '/v1/webhooks');
    for (const body of [read.body, list.body]) expect(JSON.stringify(body)).not.toContain('receiver-token-123');
    // Stored to be sent with every attempt, sealed: the document holds no plaintext value (sensitive-headers.test.ts).
    const stored = await ctx.harness.models.Webhook.collection.findOne({ _id: webhook.id as never });
    expect(stored!.headers).toContainEqual({ name: 'Authorization', sealed: expect.objectContaining({ ciphertext: expect.any(String) }) });
    expect(JSON.stringify(stored)).not.toContain('receiver-token-123');
  });

  it('refuses invalid input, naming each field path, in the one error shape', async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ url: 'http://10.0.0.1/hook' }, ['url']],
      [{ url: 'https://user:pw@example.com/' }, ['url']],
      [{ url: 'ftp://example.com/' }, ['url']],
      [{ url: 'http://[::ffff:169.254.169.254]/' }, ['url']],
      [{ url: 'not a url' }, ['url']],
      [{ events: [] }, ['events']],
      [{ events: ['Invoice.Created', 'invoice.*.x', 'ok.type'] }, ['events.0', 'events.1']],
      [{ timeoutSeconds: 31 }, ['timeoutSeconds']],
      [{ timeoutSeconds: 0 }, ['timeoutSeconds']],
      [{ timeoutSeconds: 2.5 }, ['timeoutSeconds']],
      [{ retrySchedule: ['1m', '1x', '2d'] }, ['retrySchedule.1', 'retrySchedule.2']],
      [{ headers: { 'X-Webhook-Signature': 'forged', 'Content-Type': 'text/plain' } }, ['headers.Content-Type', 'headers.X-Webhook-Signature']],
      [{ headers: { 'X-A': 'a\r\nX-Injected: 1' } }, ['headers.X-A']],
      [{ headers: { 'Bad Name': 'x' } }, ['headers.Bad Name']],
      [{ extra: 1, nested: { a: 1 } }, ['extra', 'nested']],
      [{ active: 'yes' }, ['active']],
      [{ description: 'd'.repeat(1001) }, ['description']],
    ];
    for (const [fields, paths] of cases) {
      const res = await call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'], ...fields });
      const details = expectError(res, 400, 'validation_failed');
      expect([fields, pathsOf(details)]).toEqual([fields, paths]);
    }
    const missing = await call('POST', '/v1/webhooks', {});
    expect(pathsOf(expectError(missing, 400, 'validation_failed'))).toEqual(['events', 'url']);
  });

  it('PATCH changes only the fields given; PUT replaces the whole webhook but keeps its secret', async () => {
    const webhook = await create({ description: 'before', headers: { 'X-A': '1' }, metadata: { k: 'v' }, retrySchedule: ['1m'] });
    const storedSecret = (await ctx.harness.models.Webhook.findById(webhook.id).lean())!.secret;

    const patched = await call('PATCH', `/v1/webhooks/${webhook.id}`, { description: 'after', events: ['user.created'] });
    expect(patched.status).toBe(200);
    const afterPatch = valid(webhookResponseSchema, patched.body).webhook;
    expect(afterPatch).toMatchObject({ description: 'after', events: ['user.created'], headers: { 'X-A': '1' }, metadata: { k: 'v' }, retrySchedule: ['1m'] });
    expect(new Date(afterPatch.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(webhook.updatedAt).getTime());
    expect(afterPatch.createdAt).toBe(webhook.createdAt);

    const cleared = await call('PATCH', `/v1/webhooks/${webhook.id}`, { retrySchedule: null, description: null, headers: {} });
    expect(valid(webhookResponseSchema, cleared.body).webhook).toMatchObject({ retrySchedule: null, description: null, headers: {} });

    const refused = await call('PATCH', `/v1/webhooks/${webhook.id}`, { url: 'http://192.168.1.1/' });
    expect(pathsOf(expectError(refused, 400))).toEqual(['url']);
    expect(pathsOf(expectError(await call('PATCH', `/v1/webhooks/${webhook.id}`, {}), 400))).toEqual(['(root)']);

    const put = await call('PUT', `/v1/webhooks/${webhook.id}`, { url: 'http://127.0.0.2:9/new', events: ['*'], metadata: { only: 'this' } });
    expect(put.status).toBe(200);
    expect(valid(webhookResponseSchema, put.body).webhook).toMatchObject({
      id: webhook.id,
      url: 'http://127.0.0.2:9/new',
      events: ['*'],
      description: null,
      active: true,
      headers: {},
      retrySchedule: null,
      timeoutSeconds: 5,
      metadata: { only: 'this' },
      createdAt: webhook.createdAt,
    });
    expect(pathsOf(expectError(await call('PUT', `/v1/webhooks/${webhook.id}`, { events: ['*'] }), 400))).toEqual(['url']);
    expect((await ctx.harness.models.Webhook.findById(webhook.id).lean())!.secret).toEqual(storedSecret);
  });

  /** What the delivery engine writes after deliveries: the webhook's counters document. */
  const writeCounters = (id: string, counters: Record<string, unknown>) =>
    ctx.harness.models.WebhookCounter.updateOne({ _id: id, tenantId }, { $set: counters }, { upsert: true });

  it('reactivating a webhook the service disabled clears why it was disabled and its failing streak, and keeps its counts', async () => {
    const webhook = await create({});
    // What the delivery engine does after failed deliveries, and on a 410 Gone.
    const lastTriggeredAt = new Date('2026-11-30T06:00:00.000Z');
    await writeCounters(webhook.id, { deliverySuccessCount: 5, deliveryFailureCount: 3, consecutiveFailureCount: 3, failingSince: new Date(Date.now() - 3_600_000), lastTriggeredAt });
    await ctx.harness.models.Webhook.updateOne({ _id: webhook.id }, { $set: { active: false, disabledReason: 'receiver answered 410 Gone' } });
    const disabled = valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook;
    expect(disabled).toMatchObject({ active: false, disabledReason: 'receiver answered 410 Gone', deliverySuccessCount: 5, deliveryFailureCount: 3, lastTriggeredAt: lastTriggeredAt.toISOString() });
    const enabled = valid(webhookResponseSchema, (await call('PATCH', `/v1/webhooks/${webhook.id}`, { active: true })).body).webhook;
    expect(enabled).toMatchObject({ active: true, disabledReason: null, deliverySuccessCount: 5, deliveryFailureCount: 3, lastTriggeredAt: lastTriggeredAt.toISOString() });
    expect(await storedWebhook(ctx.harness.models, webhook.id)).toMatchObject({ consecutiveFailureCount: 0, failingSince: null, deliveryFailureCount: 3 });
    // An edit of an active webhook leaves the streak alone.
    await writeCounters(webhook.id, { consecutiveFailureCount: 2 });
    expect((await call('PATCH', `/v1/webhooks/${webhook.id}`, { active: true, description: 'still failing' })).status).toBe(200);
    expect(await storedWebhook(ctx.harness.models, webhook.id)).toMatchObject({ consecutiveFailureCount: 2 });
  });

  it('DELETE removes the webhook: 204, then 404', async () => {
    const webhook = await create({});
    await writeCounters(webhook.id, { deliverySuccessCount: 1 });
    const deleted = await call('DELETE', `/v1/webhooks/${webhook.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    // Its counters go with it.
    expect(await ctx.harness.models.WebhookCounter.findById(webhook.id).lean()).toBeNull();
    expectError(await call('GET', `/v1/webhooks/${webhook.id}`), 404, 'not_found');
    expectError(await call('DELETE', `/v1/webhooks/${webhook.id}`), 404, 'not_found');
  });
});

describe('webhook list', () => {
  const ctx = useHarness({ worker: false });
  let apiKey: string;
  let tenantId: string;
  const ids: Record<string, string> = {};
  const list = async (query: string) => {
    const res = await ctx.harness.call('GET', `/v1/webhooks${query}`, { token: apiKey });
    expect(res.status).toBe(200);
    return valid(webhookListResponseSchema, res.body);
  };

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Lists'));
    const specs: [string, string[], boolean][] = [
      ['exact', ['invoice.paid'], true],
      ['prefix', ['invoice.*'], true],
      ['all', ['*'], true],
      ['other', ['payment.*', 'user.created'], true],
      ['inactive', ['invoice.paid'], false],
    ];
    for (const [name, events, active] of specs) {
      const res = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: `http://127.0.0.1:9/${name}`, events, active, description: name } });
      ids[name] = res.body.webhook.id;
    }
  });

  const names = (page: { webhooks: { description: string | null }[] }) => page.webhooks.map((w) => w.description).sort();

  it('lists newest first with the total count, and never a secret', async () => {
    const page = await list('');
    expect(page.webhooks.map((w) => w.description)).toEqual(['inactive', 'other', 'all', 'prefix', 'exact']);
    expect(page.count).toBe(5);
    expect(page.nextCursor).toBeNull();
    expect(JSON.stringify(page)).not.toMatch(/whsec_|"secret"/);
  });

  it('shows each webhook of a page with its own counters', async () => {
    const at = new Date('2026-11-30T05:00:00.000Z');
    await ctx.harness.models.WebhookCounter.insertMany([
      { _id: ids.exact, tenantId, deliverySuccessCount: 7, deliveryFailureCount: 2, consecutiveFailureCount: 1, lastTriggeredAt: at },
      { _id: ids.all, tenantId, deliverySuccessCount: 1 },
    ]);
    try {
      const counts = Object.fromEntries((await list('')).webhooks.map((w) => [w.description, [w.deliverySuccessCount, w.deliveryFailureCount, w.lastTriggeredAt]]));
      expect(counts).toEqual({ exact: [7, 2, at.toISOString()], all: [1, 0, null], prefix: [0, 0, null], other: [0, 0, null], inactive: [0, 0, null] });
    } finally {
      await ctx.harness.models.WebhookCounter.deleteMany({ _id: { $in: [ids.exact, ids.all] } });
    }
  });

  it('filters on active and on the event types a webhook would receive', async () => {
    expect(names(await list('?active=false'))).toEqual(['inactive']);
    expect(names(await list('?active=true'))).toEqual(['all', 'exact', 'other', 'prefix']);
    expect(names(await list('?event=invoice.paid'))).toEqual(['all', 'exact', 'inactive', 'prefix']);
    expect(names(await list('?event=invoice.paid&active=true'))).toEqual(['all', 'exact', 'prefix']);
    expect(names(await list('?event=user.created'))).toEqual(['all', 'other']);
    // A wildcard filter finds the webhooks subscribed with exactly that pattern.
    expect(names(await list('?event=invoice.*'))).toEqual(['prefix']);
    const filtered = await list('?event=user.created');
    expect(filtered.count).toBe(2);
  });

  it('pages with a cursor: every webhook once, in order, whatever the page size', async () => {
    const all = (await list('')).webhooks.map((w) => w.id);
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(`?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.webhooks.length).toBeLessThanOrEqual(limit);
        expect(page.count).toBe(5);
        seen.push(...page.webhooks.map((w) => w.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all);
    }
    const filtered = await list('?active=true&limit=3');
    const rest = await list(`?active=true&limit=3&cursor=${encodeURIComponent(filtered.nextCursor!)}`);
    expect([...filtered.webhooks, ...rest.webhooks].map((w) => w.description)).toEqual(['other', 'all', 'prefix', 'exact']);
    expect(rest.nextCursor).toBeNull();
  });

  it('defaults to 50 per page, and refuses bad query parameters by name', async () => {
    for (let i = 0; i < 46; i++) await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: `http://127.0.0.1:9/bulk${i}`, events: ['bulk.created'] } });
    const page = await list('');
    expect(page.webhooks).toHaveLength(50);
    expect(page.count).toBe(51);
    expect(page.nextCursor).not.toBeNull();
    expect((await list(`?cursor=${encodeURIComponent(page.nextCursor!)}`)).webhooks).toHaveLength(1);
    expect((await list('?limit=100')).webhooks).toHaveLength(51);

    const bad: [string, string[]][] = [
      ['?limit=0', ['query.limit']],
      ['?limit=101', ['query.limit']],
      ['?limit=ten', ['query.limit']],
      ['?active=yes', ['query.active']],
      ['?event=Invoice.Paid', ['query.event']],
      ['?cursor=not-a-cursor', ['query.cursor']],
      ['?colour=red', ['query.colour']],
    ];
    for (const [query, paths] of bad) {
      const res = await ctx.harness.call('GET', `/v1/webhooks${query}`, { token: apiKey });
      expect([query, pathsOf(expectError(res, 400, 'validation_failed'))]).toEqual([query, paths]);
    }
  });
});

describe('event types', () => {
  const ctx = useHarness({ worker: false });

  it('lists the built-in catalogue with descriptions plus the types this tenant has sent, and only those', async () => {
    const a = await ctx.harness.createTenant('A');
    const b = await ctx.harness.createTenant('B');
    for (const type of ['inventory.restocked', 'invoice.created']) {
      const sent = await ctx.harness.call('POST', '/v1/events', { token: a.apiKey, body: { type, data: {} } });
      expect(sent.status).toBe(202);
      valid(eventAcceptedResponseSchema, sent.body);
    }
    expect((await ctx.harness.call('POST', '/v1/events', { token: b.apiKey, body: { type: 'b_only.thing', data: {} } })).status).toBe(202);

    const res = await ctx.harness.call('GET', '/v1/event-types', { token: a.apiKey });
    expect(res.status).toBe(200);
    const { eventTypes } = valid(eventTypeListResponseSchema, res.body);
    const names = eventTypes.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(eventTypes.find((t) => t.name === 'invoice.created')).toEqual({
      name: 'invoice.created',
      description: expect.any(String),
      builtIn: true,
      example: expect.objectContaining({ type: 'invoice.created', data: expect.objectContaining({ invoiceId: expect.any(String) }) }),
    });
    expect(eventTypes.find((t) => t.name === 'inventory.restocked')).toEqual({ name: 'inventory.restocked', description: null, builtIn: false, example: null });
    expect(names.filter((n) => n === 'invoice.created')).toHaveLength(1);
    expect(names).not.toContain('b_only.thing');
    for (const family of ['invoice', 'payment', 'subscription', 'customer', 'user', 'ticket', 'email', 'file', 'import', 'export', 'compliance', 'usage', 'api_key', 'device', 'alert']) {
      expect(names.some((n) => n.startsWith(`${family}.`))).toBe(true);
    }
    expectError(await ctx.harness.call('GET', '/v1/event-types?x=1', { token: a.apiKey }), 400, 'validation_failed');
  });
});
