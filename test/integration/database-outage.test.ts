import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { DeliveryFailureType, OWN_FAILURE_REASON } from '../../src/delivery/failure-types';
import { startMongoWireServer, type RunningMongo } from '../../src/embedded/mongo-wire-server';
import { freePort } from '../../src/embedded/ports';
import { ServiceProcess } from '../../src/embedded/service-process';
import { deliveryId } from '../../src/ids';
import { Harness } from '../support/harness';
import { requestsOf, TestReceiver } from '../support/receiver';
import { eventually, uniqueName } from '../support/stack';

/**
 * The database goes away under a running stack as it did in the attack run: PostgreSQL under
 * FerretDB is killed (FerretDB stays up and answers every command `InternalError`), then started
 * again on its files. The product runs on a private FerretDB of this suite, so no other suite
 * loses its database.
 */
describe('a database outage (PostgreSQL under FerretDB killed, then started again)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'db-outage-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user under root
  let mongo: RunningMongo;
  let postgres: ServiceProcess;
  let harness: Harness;
  const receiver = new TestReceiver();

  beforeAll(async () => {
    mongo = await startMongoWireServer({ port: await freePort(), dataDir, logFile: join(dataDir, 'ferretdb.log'), tools: process.env });
    postgres = mongo.postgres;
    harness = await Harness.start({ mongodbUri: mongo.uri(uniqueName('db')) });
    await receiver.start();
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
    await receiver.stop();
    await mongo?.ferretdb.stop();
    await postgres?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const killPostgres = async () => {
    postgres.kill('SIGKILL');
    await postgres.exited;
  };
  const restartPostgres = async () => {
    postgres = new ServiceProcess(postgres.options);
    const { args } = postgres.options;
    await postgres.waitForPort(Number(args[args.indexOf('-p') + 1]));
  };

  it('a retrying delivery waits it out without spending an attempt: exactly its scheduled requests, then failed as the receiver answered; ingestion answers 503 meanwhile', async () => {
    const { apiKey, tenantId } = await harness.createTenant();
    receiver.respondWith({ status: 500, body: 'down' });
    const { webhookId } = await harness.createWebhook(apiKey, { url: receiver.url('/outage'), events: ['order.*'], retrySchedule: ['1s', '1s', '1s'] });
    const eventId = await harness.sendEvent(apiKey, { type: 'order.paid', data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    const handle = harness.client.workflow.getHandle(id);

    // Attempt 2 reached the receiver; the database goes away before attempt 3.
    await eventually(() => (requestsOf(receiver.requests, id).length >= 2 ? true : undefined), 60_000, 'attempt 2');
    await killPostgres();

    // A producer hears 503 with Retry-After, never 500.
    const refused = await harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'order.paid', data: { n: 2 } } });
    expect({ status: refused.status, retryAfter: refused.headers.get('retry-after'), code: refused.body?.error?.code }).toEqual({
      status: 503,
      retryAfter: '5',
      code: 'service_unavailable',
    });

    // The delivery fails on the database over and over (an attempt-limited run would have ended
    // failed by now); each time its Web UI shows a failure of ours, with no detail of the database.
    const waiting = await eventually(async () => {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') return d.status.name;
      const pending = d.raw.pendingActivities?.[0];
      // Past attempt 2 the deliver activity is pending until the delivery ends: gone means it gave up.
      if (!pending) return 'the deliver activity gave up';
      return pending?.lastFailure?.applicationFailureInfo?.type === DeliveryFailureType.OwnFailure && (pending.attempt ?? 0) >= 5 ? pending : undefined;
    }, 90_000, 'the delivery to fail on the database four times');
    expect(waiting).toMatchObject({ lastFailure: { message: OWN_FAILURE_REASON } });
    expect(requestsOf(receiver.requests, id)).toHaveLength(2);

    await restartPostgres();
    const failure = await handle.result().then(
      () => undefined,
      (err: WorkflowFailedError) => err.cause?.message,
    );
    expect(failure).toBe('delivery failed: HTTP 500 (attempt 4, the last)');
    // Every attempt of the schedule reached the receiver, and no more.
    expect(requestsOf(receiver.requests, id)).toHaveLength(4);
    const read = await eventually(async () => {
      const res = await harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body?.delivery?.status === 'failed' ? res.body.delivery : undefined;
    }, 60_000, 'the delivery to read as failed');
    expect(read.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 500],
    ]);
    expect(read.reason).toBe('HTTP 500 (attempt 4, the last)');
    const indexed = await harness.models.Delivery.findById(id).lean();
    expect(indexed).toMatchObject({ status: 'failed', attempts: 4 });
  }, 240_000);
});
