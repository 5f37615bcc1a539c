import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/embedded/ports';
import { eventually, testStack, uniqueName } from '../support/stack';
import { spawnWorkerProcess } from '../support/worker-process';

/** The worker as `npm start` and Docker run it: its own process, configured from the environment. */
describe('worker process', () => {
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
  });

  it('serves its own metrics and the Temporal SDK metrics on one port, and stops on SIGTERM', async () => {
    const stack = testStack();
    const metricsPort = await freePort();
    worker = spawnWorkerProcess(
      {
        ADMIN_TOKEN: randomBytes(24).toString('base64url'),
        SECRETS_KEY: randomBytes(32).toString('base64'),
        MONGODB_URI: stack.mongodbUri(uniqueName('db')),
        TEMPORAL_TASK_QUEUE: uniqueName('tq'),
        WORKER_METRICS_PORT: String(metricsPort),
      },
      { stdio: 'ignore' },
    );
    const text = await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
        const body = res?.ok ? await res.text() : '';
        return body.includes('temporal_worker_start') ? body : undefined;
      },
      60_000,
      'the worker metrics endpoint with SDK metrics',
    );
    expect(text).toContain('webhook_delivery_retries_scheduled_total');
    expect(text).toContain('process_cpu_seconds_total');

    const exited = new Promise<number | null>((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
