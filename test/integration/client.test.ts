import { createServer, connect, type Server, type Socket } from 'node:net';
import { verify, WebhookApiError, WebhookClient } from '../../packages/client/src';
import { freePort } from '../../src/embedded/ports';
import { Harness } from '../support/harness';
import { TestReceiver, type ReceivedRequest } from '../support/receiver';
import { eventually, testStack } from '../support/stack';
import { useHarness } from '../support/use-harness';

/** The request of `eventId` at `path`, once the receiver has it. */
const arrival = (requests: readonly ReceivedRequest[], path: string, eventId: string) =>
  eventually(() => requests.find((r) => r.path === path && (JSON.parse(r.body) as { id: string }).id === eventId), 30_000, `event ${eventId} at ${path}`);

describe('the typed client against the real stack (the README walk-through)', () => {
  const ctx = useHarness({ receivers: 2 });
  let client: WebhookClient;
  beforeAll(async () => {
    const admin = new WebhookClient({ baseUrl: ctx.harness.baseUrl, token: ctx.harness.adminToken });
    const { apiKey } = await admin.createTenant({ name: 'Client walk-through' });
    client = new WebhookClient({ baseUrl: ctx.harness.baseUrl, token: apiKey });
  });

  it('creates a webhook, sends an event and a batch, reads the event back; each delivery verifies with verify()', async () => {
    const [receiver] = ctx.receivers;
    const webhook = await client.createWebhook({ url: receiver.url('/billing'), events: ['invoice.*'], description: 'billing' });
    expect(webhook.secret).toMatch(/^whsec_/);

    const sent = await client.sendEvent({ type: 'invoice.created', data: { invoiceId: 'inv_1', amount: 4200 } });
    expect(sent).toEqual({ id: expect.stringMatching(/^evt_/), status: 'accepted', duplicate: false });
    const request = await arrival(receiver.requests, '/billing', sent.id);
    expect(verify(webhook.secret, request.headers, request.body)).toMatchObject({ id: sent.id, type: 'invoice.created', data: { invoiceId: 'inv_1', amount: 4200 } });
    expect(() => verify(webhook.secret, request.headers, request.body.replace('4200', '1'))).toThrow('no webhook-signature matches');

    const batcher = client.batcher({ maxBatchSize: 100, flushIntervalMs: 200 });
    const added = [1, 2, 3].map((n) => batcher.add({ type: 'invoice.paid', data: { n } }));
    await expect(batcher.close()).resolves.toEqual({ accepted: 3, rejected: [] });
    for (const [n, batched] of added.entries()) {
      const delivered = await arrival(receiver.requests, '/billing', batched.id);
      expect(verify(webhook.secret, delivered.headers, delivered.body)).toMatchObject({ id: batched.id, type: 'invoice.paid', data: { n: n + 1 } });
    }

    const read = await eventually(async () => {
      const event = await client.getEvent(sent.id);
      return event.deliveries[0]?.status === 'delivered' ? event : undefined;
    });
    expect(read.event).toMatchObject({ id: sent.id, type: 'invoice.created', data: { invoiceId: 'inv_1', amount: 4200 } });
    expect(read.deliveries).toEqual([expect.objectContaining({ webhookId: webhook.id, status: 'delivered' })]);
    // Every route is there typed, not only the convenience methods.
    const listed = await client.get('/v1/webhooks', { params: { query: { active: 'true' } } });
    expect(listed.webhooks.map((w) => w.id)).toEqual([webhook.id]);
  });

  it('retries a failed delivery: it is then delivered, verifiable, and a second retry is a 409 WebhookApiError', async () => {
    const failing = ctx.receivers[1];
    failing.respondWith({ status: 500 });
    const webhook = await client.createWebhook({ url: failing.url('/orders'), events: ['order.*'], retrySchedule: ['1s'] });
    const { id: eventId } = await client.sendEvent({ type: 'order.paid', data: { order: 7 } });
    const failed = await eventually(async () => (await client.listWebhookDeliveries(webhook.id, { status: 'failed' })).deliveries[0], 30_000, 'a failed delivery');
    expect(failed).toMatchObject({ eventId, status: 'failed' });
    expect((await client.getDelivery(failed.id)).attempts.map((a) => a.statusCode)).toEqual([500, 500]);

    failing.respondWith({ status: 200 });
    await client.retryDelivery(failed.id);
    await eventually(async () => ((await client.getDelivery(failed.id)).status === 'delivered' ? true : undefined), 30_000, 'the retried delivery');
    const last = failing.requests.filter((r) => r.path === '/orders').at(-1)!;
    expect(verify(webhook.secret, last.headers, last.body)).toMatchObject({ id: eventId });

    const again = await client.retryDelivery(failed.id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(WebhookApiError);
    expect(again).toMatchObject({ status: 409, code: 'already_delivered' });
    expect(failing.requests.filter((r) => r.path === '/orders')).toHaveLength(3);
  });

  it('reads the event list and the delivery log, and recovers a webhook\'s failed deliveries as an operation', async () => {
    const failing = ctx.receivers[1];
    failing.respondWith({ status: 503 });
    const since = new Date(Date.now() - 1000).toISOString();
    const webhook = await client.createWebhook({ url: failing.url('/ledger'), events: ['ledger.*'], retrySchedule: ['1s'] });
    const { id: eventId } = await client.sendEvent({ type: 'ledger.closed', data: { day: 1 } });
    const failed = await eventually(async () => (await client.listDeliveries({ webhookId: webhook.id, status: 'failed' })).deliveries[0], 30_000, 'the failed delivery in the log');
    expect(failed).toMatchObject({ eventId, webhookId: webhook.id, status: 'failed' });
    const { events } = await client.listEvents({ type: 'ledger.closed' });
    expect(events).toEqual([expect.objectContaining({ id: eventId, deliveries: expect.objectContaining({ total: 1, failed: 1 }) })]);

    failing.respondWith({ status: 200 });
    const { operationId } = await client.recoverWebhook(webhook.id, { since });
    const done = await eventually(async () => {
      const operation = await client.getOperation(operationId);
      return operation.status === 'completed' ? operation : undefined;
    }, 30_000, 'the recover');
    expect(done).toMatchObject({ type: 'recover', progress: { matched: 1, requeued: 1, skipped: 0, errors: 0 } });
    await eventually(async () => ((await client.getDelivery(failed.id)).status === 'delivered' ? true : undefined), 30_000, 'the recovered delivery');
    expect(failing.requests.filter((r) => r.path === '/ledger').map((r) => r.headers['webhook-id'])).toEqual([failed.id, failed.id, failed.id]);
  });

  it('administers tenants: find by name, rename, delete (its key is refused at once)', async () => {
    const admin = new WebhookClient({ baseUrl: ctx.harness.baseUrl, token: ctx.harness.adminToken });
    const created = await admin.createTenant({ name: `Zebra client ${Date.now()}` });
    const found = await admin.listTenants({ name: 'zebra client' });
    expect(found.tenants.map((t) => t.id)).toContain(created.tenant.id);
    expect(await admin.renameTenant(created.tenant.id, 'Zebra renamed')).toMatchObject({ id: created.tenant.id, name: 'Zebra renamed' });
    expect(await admin.getTenant(created.tenant.id)).toMatchObject({ name: 'Zebra renamed' });
    const zebra = new WebhookClient({ baseUrl: ctx.harness.baseUrl, token: created.apiKey });
    await zebra.listWebhooks();
    await admin.deleteTenant(created.tenant.id);
    await expect(zebra.listWebhooks()).rejects.toMatchObject({ status: 401 });
    await expect(admin.getTenant(created.tenant.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('sends an event again as the same event: accepted once, fanned out once', async () => {
    const [receiver] = ctx.receivers;
    const webhook = await client.createWebhook({ url: receiver.url('/once'), events: ['once.*'] });
    const event = { id: `evt_once_${Date.now()}`, type: 'once.sent', data: { n: 1 } };
    expect(await client.sendEvent(event)).toEqual({ id: event.id, status: 'accepted', duplicate: false });
    expect(await client.sendEvent(event)).toEqual({ id: event.id, status: 'accepted', duplicate: true });
    const [again] = await client.sendEvents([event]);
    expect(again).toMatchObject({ id: event.id, duplicate: true });
    const read = await eventually(async () => {
      const e = await client.getEvent(event.id);
      return e.deliveries[0]?.status === 'delivered' ? e : undefined;
    });
    expect(read.deliveries).toEqual([expect.objectContaining({ webhookId: webhook.id })]);
    expect(receiver.requests.filter((r) => r.path === '/once')).toHaveLength(1);
  });
});

/** A TCP proxy to Temporal that is not listening yet: Temporal is down until `up()`. */
class TemporalSwitch {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(readonly port: number) {}

  async up(): Promise<void> {
    const [host, port] = testStack().temporalAddress.split(':');
    this.server = createServer((socket) => {
      const upstream = connect(Number(port), host);
      for (const s of [socket, upstream]) {
        this.sockets.add(s);
        s.on('error', () => (s === socket ? upstream : socket).destroy());
        s.on('close', () => this.sockets.delete(s));
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('the typed client while Temporal is down', () => {
  let harness: Harness;
  let temporal: TemporalSwitch;
  let apiKey: string;
  beforeAll(async () => {
    temporal = new TemporalSwitch(await freePort());
    harness = await Harness.start({ apiTemporalAddress: `127.0.0.1:${temporal.port}` });
    ({ apiKey } = await harness.createTenant());
  });
  afterAll(async () => {
    await harness?.close();
    await temporal?.close();
  });

  it('hears 503 with Retry-After, waits it out, and the event is accepted once Temporal is back: the same event, delivered once', async () => {
    const down = new WebhookClient({ baseUrl: harness.baseUrl, token: apiKey, retry: false });
    const refused = await down.sendEvent({ type: 'invoice.created', data: {} }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WebhookApiError);
    expect(refused).toMatchObject({ status: 503, code: 'service_unavailable', retryAfter: 5 });

    const receiver = await new TestReceiver().start();
    try {
      await down.createWebhook({ url: receiver.url('/back'), events: ['invoice.*'] });
      const statuses: number[] = [];
      const client = new WebhookClient({
        baseUrl: harness.baseUrl,
        token: apiKey,
        retry: { maxAttempts: 20, maxTotalWaitMs: 90_000 },
        fetch: async (request) => {
          const response = await fetch(request);
          statuses.push(response.status);
          return response;
        },
      });
      const sending = client.sendEvent({ type: 'invoice.created', data: { amount: 1 } });
      await eventually(() => (statuses.includes(503) ? true : undefined), 30_000, 'a 503 while Temporal is down');
      await temporal.up();
      const accepted = await sending;
      expect(statuses[0]).toBe(503);
      expect(statuses.at(-1)).toBe(202);
      await arrival(receiver.requests, '/back', accepted.id);
      expect((await client.getEvent(accepted.id)).deliveries).toHaveLength(1);
      expect(receiver.requests.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([accepted.id]);
    } finally {
      await receiver.stop();
    }
  });
});
