import type { ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { deliveryId } from '../../src/ids';
import type { AttemptRecord } from '../../src/delivery/types';
import { requestsOf } from '../support/receiver';
import { useHarness } from '../support/use-harness';
import { eventually, testStack } from '../support/stack';
import { harnessWorkerEnv, spawnWorkerProcess } from '../support/worker-process';

/**
 * The worker dies (SIGKILL of its process group) while a retried attempt waits for the receiver.
 * The request may have arrived: it is an attempt. Its open record reached Temporal before the
 * request left (the activity's first heartbeat, which the SDK does not hold back), so the next
 * worker counts it: the receiver gets the schedule's requests and no more, and the log shows the
 * lost one.
 */
describe('a worker killed during a retried attempt (dev server)', () => {
  const ctx = useHarness({ receivers: 1, worker: false });
  const workers: ChildProcess[] = [];
  const startWorkerProcess = (env: NodeJS.ProcessEnv = {}) => {
    const worker = spawnWorkerProcess({ ...harnessWorkerEnv(ctx.harness), ...env }, { detached: true, stdio: 'ignore' });
    workers.push(worker);
    return worker;
  };
  const kill = async (worker: ChildProcess) => {
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((r) => worker.once('exit', r));
    // The whole group: tsx runs the worker in a child process.
    process.kill(-(worker.pid as number), 'SIGKILL');
    await exited;
  };
  afterAll(async () => {
    for (const worker of workers) await kill(worker);
  });
  /** Waits for the open record of `attempt` in the pending activity's heartbeat on the server (at once: the first heartbeat is not held back). */
  const openRecordOnServer = (handle: WorkflowHandle, attempt: number) =>
    eventually(async () => {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      const log = pending?.heartbeatDetails?.payloads?.[0] ? defaultPayloadConverter.fromPayload<AttemptRecord[]>(pending.heartbeatDetails.payloads[0]) : [];
      return log.some((r) => r.attempt === attempt && r.durationMs === null) ? true : undefined;
    }, 3_000, `the open record of attempt ${attempt}`);

  it('counts the request it was making: exactly the scheduled requests, the lost one on record', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/killed'), events: ['job.*'], retrySchedule: ['1s', '1s'] });
    // Attempt 2 is held long past the kill; the others answer at once.
    ctx.receiver.respondWith({ status: 500, body: 'first' }, { status: 500, body: 'held', delayMs: 30_000 }, { status: 500, body: 'after' });
    const first = startWorkerProcess();
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'job.done', data: {} });
    const id = deliveryId(tenantId, eventId, webhookId);
    const handle = ctx.harness.client.workflow.getHandle(id);

    await eventually(() => (requestsOf(ctx.receiver.requests, id).length === 2 ? true : undefined), 60_000, 'attempt 2 at the receiver');
    // The open record of attempt 2 is on the server at once (a throttled heartbeat would take 8 s).
    await openRecordOnServer(handle, 2);
    await kill(first);

    startWorkerProcess();
    const failure = await handle.result().then(
      () => undefined,
      (err: WorkflowFailedError) => err.cause?.message,
    );
    expect(failure).toBe('delivery failed: HTTP 500 (attempt 3, the last)');
    expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(3);
    const read = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body?.delivery?.status === 'failed' ? res.body.delivery : undefined;
    }, 30_000, 'the delivery to read as failed');
    expect(read.attempts.map((a: AttemptRecord) => [a.attempt, a.statusCode, a.errorClass])).toEqual([
      [1, 500, null],
      [2, null, 'worker_lost'],
      [3, 500, null],
    ]);
  }, 180_000);

  it('a request lost on the last attempt is followed by one more: the delivery ends on an answer someone saw', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/last'), events: ['job.*'], retrySchedule: ['1s', '1s'] });
    // One worker process at a time: the one killed must be the one making the attempt.
    for (const worker of workers) await kill(worker);
    // Attempt 3, the last, is held past the kill (the receiver would have answered 200); the next answers 200 at once.
    ctx.receiver.respondWith({ status: 500, body: 'first' }, { status: 500, body: 'second' }, { status: 200, body: 'held', delayMs: 30_000 }, { status: 200, body: 'seen' });
    const first = startWorkerProcess();
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'job.done', data: {} });
    const id = deliveryId(tenantId, eventId, webhookId);
    const handle = ctx.harness.client.workflow.getHandle(id);

    await eventually(() => (requestsOf(ctx.receiver.requests, id).length === 3 ? true : undefined), 60_000, 'attempt 3 at the receiver');
    await openRecordOnServer(handle, 3);
    await kill(first);

    startWorkerProcess();
    await handle.result();
    expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(4);
    const read = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body?.delivery?.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, 'the delivery to read as delivered');
    expect(read.attempts.map((a: AttemptRecord) => [a.attempt, a.statusCode, a.errorClass])).toEqual([
      [1, 500, null],
      [2, 500, null],
      [3, null, 'worker_lost'],
      [4, 200, null],
    ]);
  }, 180_000);

  it("a 2xx whose result never reached Temporal is kept: the next attempt ends the delivery delivered without sending again", async () => {
    for (const worker of workers) await kill(worker);
    // The worker reaches Temporal through a proxy this test cuts while the receiver holds its 2xx.
    const target = new URL(`http://${testStack().temporalAddress}`);
    const sockets = new Set<Socket>();
    let cut = false;
    const proxy = createServer((downstream) => {
      if (cut) return void downstream.destroy();
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [downstream, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { apiKey, tenantId } = await ctx.harness.createTenant();
      const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/answered'), events: ['job.*'], retrySchedule: ['1s', '1s'] });
      ctx.receiver.respondWith({ status: 500, body: 'first' }, { status: 200, body: 'answered', delayMs: 1000 }, { status: 500, body: 'third' });
      const first = startWorkerProcess({ TEMPORAL_ADDRESS: `127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      const eventId = await ctx.harness.sendEvent(apiKey, { type: 'job.done', data: {} });
      const id = deliveryId(tenantId, eventId, webhookId);
      const handle = ctx.harness.client.workflow.getHandle(id);

      await eventually(() => (requestsOf(ctx.receiver.requests, id).length === 2 ? true : undefined), 60_000, 'attempt 2 at the receiver');
      cut = true;
      for (const socket of sockets) socket.destroy();
      // The receiver answers 200 a second later; the worker cannot report it. Then it is gone.
      await eventually(async () => ((await ctx.harness.models.Delivery.findById(id).lean())?.answered ? true : undefined), 10_000, 'the 2xx kept');
      await kill(first);

      startWorkerProcess();
      const result = await handle.result();
      expect(result.status).toBe('delivered');
      expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(2);
      const read = await eventually(async () => {
        const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
        return res.body?.delivery?.status === 'delivered' ? res.body.delivery : undefined;
      }, 30_000, 'the delivery to read as delivered');
      expect(read.attempts.map((a: AttemptRecord) => [a.attempt, a.statusCode])).toEqual([
        [1, 500],
        [2, 200],
      ]);
    } finally {
      proxy.close();
      for (const socket of sockets) socket.destroy();
    }
  }, 180_000);
});
