import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { webhookListResponseSchema, webhookResponseSchema } from '../../src/api/schemas/webhook';
import { expectError, pathsOf, valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { tenantCalls } from '../support/tenant-calls';
import { useHarness } from '../support/use-harness';
import { harnessWorkerEnv, killWorkerProcesses, spawnWorkerProcess } from '../support/worker-process';

const EVENTS = 500;
/** The worker is killed once this many events are accepted: fan-outs are in flight, later ones queue behind a dead worker. */
const KILL_AFTER_ACCEPTED = 250;
/** Short and long enough: a delivery failing 20 % of its requests is delivered well before the end of it. */
const SCHEDULE = Array.from({ length: 8 }, () => '1s');

/** One request as the receiver saw it. */
interface Arrival {
  path: string;
  deliveryId: string;
  eventId: string;
  status: number;
  at: number;
}

/** A seeded pseudo-random sequence (mulberry32): the same failures on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A receiver on loopback that answers each request by `answer` (status and delay), and records
 * every arrival and the most requests it ever had in flight at once.
 */
class LineReceiver {
  readonly arrivals: Arrival[] = [];
  mostInFlight = 0;
  private inFlight = 0;
  private server?: Server;
  private port = 0;

  constructor(private readonly answer: (arrival: Arrival) => { status: number; delayMs?: number }) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
      let open = true;
      const done = () => {
        if (open) this.inFlight--;
        open = false;
      };
      res.on('finish', done);
      res.on('close', done);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
        const arrival: Arrival = { path: req.url ?? '', deliveryId: req.headers['webhook-id'] as string, eventId: body.id, status: 0, at: Date.now() };
        const { status, delayMs = 0 } = this.answer(arrival);
        arrival.status = status;
        this.arrivals.push(arrival);
        setTimeout(() => {
          if (req.socket.destroyed) return done();
          res.writeHead(status).end(status < 300 ? 'ok' : 'try again');
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Event ids of the first 2xx answer to each event at `path`, in the order they arrived. */
  firstDelivered(path: string): string[] {
    const seen = new Set<string>();
    for (const a of this.arrivals) if (a.path === path && a.status < 300 && !seen.has(a.eventId)) seen.add(a.eventId);
    return [...seen];
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('FIFO webhooks (ordering: "fifo")', () => {
  const ctx = useHarness({ worker: false });
  const workers: ChildProcess[] = [];
  let apiKey: string;
  let tenantId: string;
  const { call, create } = tenantCalls(ctx, () => apiKey);
  // 20 % of requests to /line fail (seeded); the others answer as each test says.
  const random = seeded(24);
  const held = new Map<string, number>();
  const failing = new Set<string>();
  const receiver = new LineReceiver((arrival) => {
    if (arrival.path === '/line') return { status: random() < 0.2 ? 500 : 200 };
    if (failing.has(arrival.eventId)) return { status: 500 };
    return { status: 200, delayMs: held.get(arrival.eventId) ?? 0 };
  });

  const startWorker = () => {
    // Its own process group, killed whole: tsx runs the worker in a child process.
    const worker = spawnWorkerProcess(harnessWorkerEnv(ctx.harness), { detached: true, stdio: 'ignore' });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('FIFO'));
    await receiver.start();
  });
  afterAll(async () => {
    await killWorkerProcesses(workers);
    await receiver.stop();
  });

  it('create, read, list, PATCH and PUT carry ordering; unordered by default; other values are refused with 400', async () => {
    expect((await create({})).ordering).toBe('unordered');
    const webhook = await create({ ordering: 'fifo' });
    expect(webhook.ordering).toBe('fifo');
    expect(valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook.ordering).toBe('fifo');
    const list = valid(webhookListResponseSchema, (await call('GET', '/v1/webhooks')).body);
    expect(list.webhooks.find((w) => w.id === webhook.id)!.ordering).toBe('fifo');
    // PATCH without the field keeps it; with one, replaces it.
    expect(valid(webhookResponseSchema, (await call('PATCH', `/v1/webhooks/${webhook.id}`, { description: 'in line' })).body).webhook.ordering).toBe('fifo');
    expect(valid(webhookResponseSchema, (await call('PATCH', `/v1/webhooks/${webhook.id}`, { ordering: 'unordered' })).body).webhook.ordering).toBe('unordered');
    expect(valid(webhookResponseSchema, (await call('PUT', `/v1/webhooks/${webhook.id}`, { url: webhook.url, events: ['invoice.*'], ordering: 'fifo' })).body).webhook.ordering).toBe('fifo');
    // PUT replaces the whole webhook: ordering left out goes back to unordered.
    expect(valid(webhookResponseSchema, (await call('PUT', `/v1/webhooks/${webhook.id}`, { url: webhook.url, events: ['invoice.*'] })).body).webhook.ordering).toBe('unordered');

    for (const ordering of ['FIFO', 'ordered', '', null, true, 1, {}]) {
      for (const [method, path, body] of [
        ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'], ordering }],
        ['PUT', `/v1/webhooks/${webhook.id}`, { url: 'http://127.0.0.1:9/hook', events: ['*'], ordering }],
        ['PATCH', `/v1/webhooks/${webhook.id}`, { ordering }],
      ] as const) {
        const details = expectError(await call(method, path, body), 400, 'validation_failed');
        expect([method, ordering, pathsOf(details)]).toEqual([method, ordering, ['ordering']]);
      }
    }
    expect(valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook.ordering).toBe('unordered');

    const document = (await ctx.harness.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [['/v1/webhooks', 'post'], ['/v1/webhooks/{id}', 'put'], ['/v1/webhooks/{id}', 'patch'], ['/v1/webhooks/{id}', 'get'], ['/v1/webhooks', 'get']]) {
      expect([path, method, JSON.stringify(document.paths[path][method])]).toEqual([path, method, expect.stringContaining('"ordering":{')]);
    }
  });

  it(`${EVENTS} events, a receiver failing 20 % of requests, the worker killed once: first 2xx copies arrive in acceptance order, none missing, one request at a time`, async () => {
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/line'), events: ['line.*'], ordering: 'fifo', retrySchedule: SCHEDULE });
    let worker = startWorker();

    // Accepted one at a time: acceptance order is the order of these calls.
    const accepted: string[] = [];
    let killed = false;
    let deliveredAtKill = 0;
    for (let i = 0; i < EVENTS; i++) {
      accepted.push(await ctx.harness.sendEvent(apiKey, { id: `line-${String(i).padStart(4, '0')}`, type: 'line.test', data: { i } }));
      if (accepted.length === KILL_AFTER_ACCEPTED) {
        // Mid-run: some delivered, fan-outs and the line's sequencer in flight. Later events are
        // accepted while no worker runs; the fan-outs the dead worker held wait for their task timeout.
        await eventually(() => (receiver.firstDelivered('/line').length >= 20 ? true : undefined), 120_000, 'deliveries under way');
        process.kill(-worker.pid!, 'SIGKILL');
        await new Promise((r) => worker.once('exit', r));
        killed = true;
        deliveredAtKill = receiver.firstDelivered('/line').length;
        worker = startWorker();
      }
    }
    expect(killed).toBe(true);
    expect(deliveredAtKill).toBeLessThan(EVENTS);

    await eventually(() => (receiver.firstDelivered('/line').length >= EVENTS ? true : undefined), 600_000, 'every event delivered');
    const arrivals = receiver.arrivals.filter((a) => a.path === '/line');
    // The receiver's first 2xx of each event, in the order it came: exactly the acceptance order.
    expect(receiver.firstDelivered('/line')).toEqual(accepted);
    // The same order as the events' acceptance times on record.
    const stored = await ctx.harness.models.Event.find({ tenantId, type: 'line.test' }).select({ eventId: 1, acceptedAt: 1 }).lean();
    expect([...stored].sort((a, b) => a.acceptedAt.getTime() - b.acceptedAt.getTime()).map((e) => e.eventId)).toEqual(accepted);
    // One request at a time, across the kill too.
    expect(receiver.mostInFlight).toBe(1);
    // The failures were real: retries happened, in their turn.
    expect(arrivals.filter((a) => a.status >= 500).length).toBeGreaterThan(EVENTS * 0.1);

    // Every delivery ends delivered in the index, one per event.
    await eventually(
      async () => ((await ctx.harness.models.Delivery.countDocuments({ tenantId, webhookId, status: 'delivered' })) === EVENTS ? true : undefined),
      120_000,
      'every delivery recorded delivered',
    );
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId, webhookId })).toBe(EVENTS);
    // The line is empty once its last delivery has run.
    await eventually(async () => ((await ctx.harness.models.FifoEntry.countDocuments({ webhookId })) === 0 ? true : undefined), 30_000, 'the line empty');
  }, 900_000);

  it('a retried or resent delivery is sent at the end of the line, behind what was accepted before it', async () => {
    if (!workers.some((w) => w.exitCode === null && w.signalCode === null)) startWorker();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/requeue'), events: ['requeue.*'], ordering: 'fifo', retrySchedule: ['1s'] });
    const send = (id: string) => ctx.harness.sendEvent(apiKey, { id, type: 'requeue.test', data: {} });
    const deliveryOf = async (eventId: string) =>
      eventually(async () => (await ctx.harness.models.Delivery.findOne({ webhookId, eventId }).lean()) ?? undefined, 30_000, `the delivery of ${eventId}`);
    const statusOf = async (eventId: string, status: string) =>
      eventually(async () => ((await deliveryOf(eventId)).status === status ? true : undefined), 60_000, `${eventId} ${status}`);

    // rq-a fails for good (two attempts), rq-b is delivered.
    failing.add('rq-a');
    await send('rq-a');
    await send('rq-b');
    await statusOf('rq-a', 'failed');
    await statusOf('rq-b', 'delivered');
    failing.delete('rq-a');

    // rq-c holds the line (a slow answer) while rq-d is accepted, rq-a retried, rq-b resent, rq-e accepted.
    held.set('rq-c', 4000);
    await send('rq-c');
    await eventually(() => (receiver.arrivals.some((a) => a.eventId === 'rq-c') ? true : undefined), 30_000, 'rq-c in flight');
    await send('rq-d');
    expect((await call('POST', `/v1/deliveries/${(await deliveryOf('rq-a'))._id}/retry`)).status).toBe(202);
    expect((await call('POST', `/v1/deliveries/${(await deliveryOf('rq-b'))._id}/resend`)).status).toBe(202);
    await send('rq-e');

    await eventually(() => (receiver.firstDelivered('/requeue').includes('rq-e') ? true : undefined), 60_000, 'rq-e delivered');
    const after = receiver.arrivals.filter((a) => a.path === '/requeue' && a.status < 300).map((a) => a.eventId);
    expect(after.slice(after.indexOf('rq-c'))).toEqual(['rq-c', 'rq-d', 'rq-a', 'rq-b', 'rq-e']);
    await statusOf('rq-a', 'delivered');
    expect(receiver.mostInFlight).toBe(1);
  }, 180_000);
});
