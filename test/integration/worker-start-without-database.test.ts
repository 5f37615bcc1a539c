import type { ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/embedded/ports';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { useHarness } from '../support/use-harness';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { harnessWorkerEnv, spawnWorkerProcess } from '../support/worker-process';

interface LogLine {
  level: number;
  name: string;
  msg: string;
  retryInMs?: number;
}

/**
 * The worker process started while its database is down (a restart during an outage, as the chaos
 * run does): it waits for the database, logging a warning with back-off, instead of exiting, and
 * delivers the events accepted meanwhile once MongoDB answers.
 */
describe('worker started while MongoDB is down', () => {
  // No in-process worker: the worker process under test is the only one polling the harness's queue.
  const ctx = useHarness({ receivers: 1, worker: false });
  let worker: ChildProcess | undefined;
  let output = '';
  let proxy: Server | undefined;
  const proxied: Socket[] = [];

  afterEach(async () => {
    proxy?.close();
    for (const socket of proxied.splice(0)) socket.destroy();
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGKILL');
      await exited;
    }
  });

  /** The worker as `npm run start:worker` runs it, on the harness's task queue, its database at `mongoPort` on loopback. */
  function startWorker(mongoPort: number): ChildProcess {
    const uri = new URL(ctx.harness.mongodbUri);
    uri.host = `127.0.0.1:${mongoPort}`;
    output = '';
    worker = spawnWorkerProcess({ ...harnessWorkerEnv(ctx.harness), MONGODB_URI: uri.toString() }, { stdio: ['ignore', 'pipe', 'pipe'], oneProcess: true });
    for (const stream of [worker.stdout!, worker.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return worker;
  }

  /** The worker's "not reachable yet" warnings so far. */
  const unreachableWarnings = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine)
      .filter((entry) => entry.msg === 'MongoDB not reachable yet; trying again');

  /** Resolves once the worker has logged `count` such warnings; fails at once if it exits instead. */
  const warned = (count: number) =>
    eventually(
      () => {
        if (worker!.exitCode !== null || worker!.signalCode !== null) {
          throw new Error(`the worker exited (${worker!.exitCode ?? worker!.signalCode}) instead of waiting for MongoDB:\n${output}`);
        }
        return unreachableWarnings().length >= count ? true : undefined;
      },
      60_000,
      `${count} "MongoDB not reachable yet" warning(s) of the worker`,
    );

  /** The database comes up at `port`: a proxy to the test stack's MongoDB-wire server. */
  async function openDatabase(port: number): Promise<void> {
    const target = new URL(ctx.harness.mongodbUri);
    proxy = createServer((downstream) => {
      const upstream = connect(Number(target.port), target.hostname);
      proxied.push(downstream, upstream);
      for (const socket of [downstream, upstream]) socket.on('error', () => undefined);
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => proxy!.listen(port, '127.0.0.1', resolve));
  }

  it('waits for the database with back-off, then delivers what was accepted meanwhile', async () => {
    const mongoPort = await freePort();
    startWorker(mongoPort);
    await warned(2);
    expect(worker!.exitCode).toBeNull();
    expect(unreachableWarnings().slice(0, 2)).toEqual([
      expect.objectContaining({ level: 40, name: 'worker', retryInMs: 1000 }),
      expect.objectContaining({ level: 40, name: 'worker', retryInMs: 2000 }),
    ]);

    // An event accepted by the API (whose database is up) while the worker waits.
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { secret } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/late'), events: ['*'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'user.created', data: { n: 1 } });
    expect(ctx.receiver.requests).toHaveLength(0);

    await openDatabase(mongoPort);
    expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result()).toEqual({ deliveries: 1 });
    expect(ctx.receiver.requests).toHaveLength(1);
    const [request] = ctx.receiver.requests;
    expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId, type: 'user.created', data: { n: 1 } });
    const onRecord = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${request.headers['webhook-id'] as string}`, { token: apiKey });
      return res.status === 200 && res.body.delivery.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, 'the delivery on record');
    expect(onRecord.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200 })]);
    expect(worker!.exitCode).toBeNull();
  });

  it('stops on SIGTERM while it waits for the database, without waiting for a try to end', async () => {
    startWorker(await freePort());
    await warned(1);
    const exited = new Promise<number | null>((r) => worker!.once('exit', r));
    const signalled = Date.now();
    worker!.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A try lasts up to 5 s (the driver's server selection timeout).
    expect(Date.now() - signalled).toBeLessThan(3000);
  });
});
