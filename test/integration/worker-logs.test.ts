import type { ChildProcess } from 'node:child_process';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { harnessWorkerEnv, spawnWorkerProcess } from '../support/worker-process';

/**
 * Every line a worker process writes is a JSON log line, the SDK's native warnings included: a
 * log pipeline parses them all. A receiver slower than 5 s makes the fan-out's workflow task
 * outlast 5 s, which the SDK's core reports (TMPRL1104).
 */
describe('worker process logs', () => {
  const ctx = useHarness({ receivers: 1, worker: false });
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  });

  it("are JSON lines, the SDK core's warnings included", async () => {
    const output: string[] = [];
    worker = spawnWorkerProcess(harnessWorkerEnv(ctx.harness), { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [worker.stdout!, worker.stderr!]) stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));

    const { apiKey } = await ctx.harness.createTenant();
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/slow'), events: ['slow.*'], timeoutSeconds: 10 });
    ctx.receiver.respondWith({ status: 200, body: 'ok', delayMs: 6500 });
    await ctx.harness.sendEvent(apiKey, { id: 'slow-1', type: 'slow.test', data: {} });
    const lines = () => output.join('').split('\n').filter((line) => line.trim());
    await eventually(() => (lines().some((line) => line.includes('TMPRL1104')) ? true : undefined), 60_000, "the SDK core's warning");

    const notJson = lines().filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const warning = lines().map((line) => JSON.parse(line) as { level: number; msg: string }).find((entry) => entry.msg.includes('TMPRL1104'));
    expect(warning).toMatchObject({ level: 40, msg: expect.stringContaining('Workflow task duration exceeded') });
  });
});
