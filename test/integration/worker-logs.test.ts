import type { ChildProcess } from 'node:child_process';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { harnessWorkerEnv, spawnWorkerProcess } from '../support/worker-process';

/**
 * Every line a worker process writes is a JSON log line, the SDK's native warnings included: a
 * log pipeline parses them all. A workflow of a type the worker does not have fails its workflow
 * task, which the SDK's core reports ("Failing workflow task").
 */
describe('worker process logs', () => {
  const ctx = useHarness({ worker: false });
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

    const stray = await ctx.harness.client.workflow.start('NoSuchWorkflow', { taskQueue: ctx.harness.taskQueue, workflowId: `stray-${Date.now()}`, args: [] });
    const lines = () => output.join('').split('\n').filter((line) => line.trim());
    try {
      await eventually(() => (lines().some((line) => line.includes('Failing workflow task')) ? true : undefined), 60_000, "the SDK core's warning");
    } finally {
      await stray.terminate('test over');
    }

    const notJson = lines().filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const warning = lines().map((line) => JSON.parse(line) as { level: number; msg: string }).find((entry) => entry.msg.includes('Failing workflow task'));
    expect(warning).toMatchObject({ level: 40 });
  });
});
