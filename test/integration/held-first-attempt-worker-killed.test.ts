import type { ChildProcess } from 'node:child_process';
import { deliveryId } from '../../src/ids';
import type { AttemptRecord } from '../../src/delivery/types';
import { requestsOf } from '../support/receiver';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { harnessWorkerEnv, killWorkerProcesses, spawnWorkerProcess } from '../support/worker-process';

/**
 * The worker holding a first attempt for its fan-out (a request in flight past the inline budget,
 * or one scheduled for its rate-limit slot) is killed (SIGKILL). The fan-out settles the delivery
 * on the next worker: a request that left is an attempt whose answer is unknown there, and the
 * schedule goes on from it; a scheduled request that never left is no attempt, and the delivery's
 * workflow makes attempt 1.
 */
describe('a worker killed while its fan-out holds a first attempt', () => {
  const ctx = useHarness({ receivers: 2, worker: false });
  const workers: ChildProcess[] = [];
  const startWorker = () => {
    const worker = spawnWorkerProcess(harnessWorkerEnv(ctx.harness), { detached: true, stdio: 'ignore' });
    workers.push(worker);
    return worker;
  };
  afterEach(async () => {
    await killWorkerProcesses(workers.splice(0));
  });

  const readDelivery = (apiKey: string, id: string, status: string) =>
    eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body?.delivery?.status === status ? res.body.delivery : undefined;
    }, 60_000, `the delivery to read as ${status}`);

  it('a request in flight: attempt 1 is on record with its answer unknown, attempt 2 follows on the schedule', async () => {
    const receiver = ctx.receivers[0];
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/slow'), events: ['job.*'], retrySchedule: ['1s'], timeoutSeconds: 3 });
    // The first request is held past the kill; the next answers at once.
    receiver.respondWith({ status: 200, body: 'held', delayMs: 20_000 }, { status: 200, body: 'seen' });
    const worker = startWorker();
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'job.done', data: {} });
    const id = deliveryId(tenantId, eventId, webhookId);
    // Held: pending with attempt 1 open in the index, the request at the receiver.
    await eventually(async () => ((await ctx.harness.models.Delivery.findById(id).lean())?.status === 'pending' ? true : undefined), 30_000, 'the held delivery');
    expect(requestsOf(receiver.requests, id)).toHaveLength(1);
    await killWorkerProcesses([worker]);

    startWorker();
    const delivered = await readDelivery(apiKey, id, 'delivered');
    expect(delivered.attempts.map((a: AttemptRecord) => [a.attempt, a.statusCode, a.errorClass])).toEqual([
      [1, null, 'worker_lost'],
      [2, 200, null],
    ]);
    expect(requestsOf(receiver.requests, id)).toHaveLength(2);
  }, 120_000);

  it('a request scheduled for its slot that never left: no attempt is spent, attempt 1 is the one request', async () => {
    const receiver = ctx.receivers[1];
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    // One request every 10 s: the second event's slot is far enough off to kill the worker before it.
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/paced'), events: ['job.*'], rateLimitPerSecond: 0.1, timeoutSeconds: 2 });
    const worker = startWorker();
    const [first, second] = await Promise.all(['paced-1', 'paced-2'].map((id) => ctx.harness.sendEvent(apiKey, { id, type: 'job.done', data: {} })));
    const ids = [first, second].map((eventId) => deliveryId(tenantId, eventId, webhookId));
    // Held for a slot seconds away (the other may have gone out inline, its slot being near).
    const later = await eventually(async () => {
      const docs = await ctx.harness.models.Delivery.find({ _id: { $in: ids }, status: 'pending' }).lean();
      return docs.find((d) => (d.nextAttemptAt?.getTime() ?? 0) - Date.now() > 3000);
    }, 30_000, 'a delivery held for a slot seconds away');
    await killWorkerProcesses([worker]);
    expect(requestsOf(receiver.requests, later._id)).toHaveLength(0);

    startWorker();
    const delivered = await readDelivery(apiKey, later._id, 'delivered');
    expect(delivered.attempts.map((a: AttemptRecord) => [a.attempt, a.statusCode, a.errorClass])).toEqual([[1, 200, null]]);
    expect(requestsOf(receiver.requests, later._id)).toHaveLength(1);
  }, 120_000);
});
