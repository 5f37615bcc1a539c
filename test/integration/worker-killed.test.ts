import type { ChildProcess } from 'node:child_process';
import { storedWebhook } from '../support/stored-webhook';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { harnessWorkerEnv, killWorkerProcesses, spawnWorkerProcess } from '../support/worker-process';

const EVENTS = 5;
const WEBHOOKS = 20;

/**
 * The worker dies (SIGKILL, no graceful stop) while the fan-out's inline first attempts are in
 * flight. The local activities' results never reached Temporal, so the next worker runs them
 * again: receivers may see a delivery twice (same `webhook-id`), never zero times, and the
 * deliveries index and the webhooks' counters record each delivery exactly once.
 */
describe('a worker killed during inline first attempts', () => {
  const ctx = useHarness({ receivers: 1, worker: false });
  const workers: ChildProcess[] = [];
  afterAll(() => killWorkerProcesses(workers));

  const startWorkerProcess = () => {
    // The process group is killed with it: tsx runs the worker in a child process.
    const worker = spawnWorkerProcess(harnessWorkerEnv(ctx.harness), { detached: true, stdio: 'ignore' });
    workers.push(worker);
    return worker;
  };

  it('delivers every delivery at least once and records none twice', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const webhookIds: string[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      webhookIds.push((await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url(`/kill/${i}`), events: ['kill.*'], retrySchedule: ['2s'] })).webhookId);
    }
    // Slow answers keep the first attempts in flight when the worker dies.
    ctx.receiver.respondWith({ status: 200, body: 'slow', delayMs: 3000 });
    const first = startWorkerProcess();
    const eventIds: string[] = [];
    for (let i = 0; i < EVENTS; i++) eventIds.push(await ctx.harness.sendEvent(apiKey, { id: `kill-${i}`, type: 'kill.test', data: { i } }));

    await eventually(() => (ctx.receiver.requests.length >= 10 ? true : undefined), 60_000, 'first attempts in flight');
    process.kill(-first.pid!, 'SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const seenBeforeKill = ctx.receiver.requests.length;
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId, status: 'delivered' })).toBeLessThan(EVENTS * WEBHOOKS);

    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    startWorkerProcess();
    await eventually(
      async () => ((await ctx.harness.models.Delivery.countDocuments({ tenantId, status: 'delivered' })) === EVENTS * WEBHOOKS ? true : undefined),
      120_000,
      'every delivery delivered',
    );
    // Every fan-out finished, so nothing more is on its way.
    for (const eventId of eventIds) await ctx.harness.client.workflow.getHandle(`event/${tenantId}/${eventId}`).result();

    const delivered = new Set(ctx.receiver.requests.map((r) => r.headers['webhook-id'] as string));
    expect(delivered.size).toBe(EVENTS * WEBHOOKS);
    expect(ctx.receiver.requests.length).toBeGreaterThan(seenBeforeKill);
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId })).toBe(EVENTS * WEBHOOKS);
    for (const webhookId of webhookIds) {
      const webhook = await storedWebhook(ctx.harness.models, webhookId);
      expect({ webhookId, success: webhook?.deliverySuccessCount, failure: webhook?.deliveryFailureCount }).toEqual({ webhookId, success: EVENTS, failure: 0 });
    }
    // Each delivery's record holds one delivered attempt, whatever the receiver saw.
    const read = await ctx.harness.call('GET', `/v1/events/${eventIds[0]}?limit=100`, { token: apiKey });
    expect(read.body.deliveries).toHaveLength(WEBHOOKS);
    for (const delivery of read.body.deliveries) {
      expect(delivery.status).toBe('delivered');
      expect(delivery.attempts.at(-1)).toMatchObject({ statusCode: 200 });
    }
  }, 240_000);
});

/**
 * The worker dies after its inline first attempt was made and recorded in the index, before the
 * workflow task holding the attempt's result reached Temporal: the fan-out's next try finds the
 * delivery recorded and sends nothing, so the attempt is in no history. Its own task queue and
 * unversioned workers (the suite above leaves a current Worker Deployment version on its queue).
 */
describe('a worker killed after its first attempt was recorded, before its workflow task completed', () => {
  const ctx = useHarness({ receivers: 1, worker: false });
  const spawned: ChildProcess[] = [];
  afterAll(() => killWorkerProcesses(spawned));

  it('keeps the attempt in the audit log and sends it once', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/recorded'), events: ['recorded.*'] });
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    // This worker kills itself the moment the index holds the delivery, its attempt made.
    const dying = spawnWorkerProcess(
      { ...harnessWorkerEnv(ctx.harness), WORKER_VERSIONING: 'false' },
      { stdio: 'ignore', oneProcess: true, entry: 'test/fixtures/worker-dies-after-record.ts' },
    );
    spawned.push(dying);
    const died = new Promise((r) => dying.once('exit', (_code, signal) => r(signal)));
    const eventId = await ctx.harness.sendEvent(apiKey, { id: 'recorded-1', type: 'recorded.test', data: {} });
    expect(await died).toBe('SIGKILL');
    expect((await ctx.harness.models.Delivery.findOne({ tenantId, eventId }).lean())?.status).toBe('delivered');

    // The next worker runs the fan-out's workflow task again: the delivery is recorded, so it is not sent again.
    spawned.push(spawnWorkerProcess({ ...harnessWorkerEnv(ctx.harness), WORKER_VERSIONING: 'false' }, { stdio: 'ignore', detached: true }));
    await ctx.harness.client.workflow.getHandle(`event/${tenantId}/${eventId}`).result();
    const requests = ctx.receiver.requests.filter((r) => r.path === '/recorded');
    expect(requests).toHaveLength(1);

    const read = await ctx.harness.call('GET', `/v1/events/${eventId}`, { token: apiKey });
    expect(read.body.deliveries).toEqual([
      expect.objectContaining({ status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, statusCode: 200, startedAt: expect.any(String) })] }),
    ]);
  }, 120_000);
});
