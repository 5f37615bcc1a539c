import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromCliJson } from '../support/history-json';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { workflowBundle } from '../../src/worker/workflow-bundle';
import { installQuietRuntime } from '../support/harness';
import { FIFO_LINES } from '../../src/workflows/fifo-handover';
import { HOLD_FIRST_ATTEMPTS } from '../../src/workflows/held-first-attempts';

/**
 * Deliveries live for weeks, so today's workflow code must replay the histories that earlier
 * code wrote. Each set under histories/ was captured (capture-histories.ts) from one version of
 * the workflows: v1 before first attempts moved inline, v2 after, v3 with truthful cancellation
 * and resends, v4 with each fan-out page recorded by the next run, v5 with several pages per
 * fan-out run, v6 with retried deliveries on their own task queue, v7 with first attempts in batches,
 * v8 with executions started at a workflow version (no patch markers), v9 at version 2 (a batch
 * records what ended on its first attempt), v10 with attempts numbered from the attempt log (no
 * attempt limit) and a first attempt not made handed over with no attempt, v11 with FIFO webhooks (a
 * fan-out handing a delivery to its line, the line's sequencer, a delivery it ran), v12 with fan-outs
 * that hold first attempts (slow receivers, a rate-limit slot) and settle them. A change that breaks replay of
 * any of them must be guarded with `patched()` (see docs/delivery.md).
 */
const root = join(__dirname, 'histories');
/** Every set directory, empty or not: a set that lost its histories must fail, not drop out. */
const sets = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
/** Sets are numbered from v1 without a gap, and none captured so far may go missing. */
const CAPTURED_SETS = 12;
/** The set from which FIFO webhooks' sequencers are captured too. */
const FIFO_FROM_SET = 11;
/** The set from which fan-outs that hold first attempts are captured. */
const HELD_FROM_SET = 12;
const histories = sets.flatMap((set) =>
  readdirSync(join(root, set))
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ set, name: file.replace(/\.json$/, ''), path: join(root, set, file) })),
);

describe('replay of captured histories', () => {
  beforeAll(() => installQuietRuntime());

  it('has histories of every workflow type in every captured set', () => {
    const numbers = sets.map((set) => Number(/^v(\d+)$/.exec(set)?.[1] ?? NaN)).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: Math.max(numbers.length, CAPTURED_SETS) }, (_, i) => i + 1));
    for (const set of sets) {
      const types = new Set(
        histories
          .filter((h) => h.set === set)
          .map((h) => JSON.parse(readFileSync(h.path, 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name),
      );
      const fifo = Number(set.slice(1)) >= FIFO_FROM_SET ? ['FifoSequencerWorkflow'] : [];
      expect([...types].sort()).toEqual(['DeliveryWorkflow', 'EventFanoutWorkflow', ...fifo, 'RequeueWorkflow']);
    }
  });

  /** Replays every history with `options` (a bundle and what the worker adds); returns the failures and how many replayed. */
  async function replayAll(options: Omit<ReplayWorkerOptions, 'replayName'>): Promise<{ failures: string[]; replayed: number }> {
    const results = Worker.runReplayHistories(
      options,
      histories.map((h) => ({ workflowId: `${h.set}/${h.name}`, history: historyFromCliJson(JSON.parse(readFileSync(h.path, 'utf8'))) })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of results) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    return { failures, replayed };
  }

  it('replays every captured history with the current workflow code', async () => {
    const { failures, replayed } = await replayAll({ workflowsPath: require.resolve('../../src/workflows') });
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  });

  it("replays every captured history with tracing on: the worker's bundle with the OpenTelemetry workflow interceptors, and its sink of workflow spans", async () => {
    const bundle = await workflowBundle(undefined, true);
    expect(bundle.traced).toBe(true);
    // A real processor and exporter of the SDK, in memory: replay must not fail on the spans' way out either.
    const exporter = new InMemorySpanExporter();
    const { failures, replayed } = await replayAll({
      workflowBundle: { code: bundle.code },
      sinks: { exporter: makeWorkflowExporter(new SimpleSpanProcessor(exporter), new Resource({})) },
    });
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  }, 120_000);

  it('marks only a fan-out that handed a delivery to a FIFO line: an unordered fan-out records the commands the build before records, so either build replays it', () => {
    // The patch id in a marker's details: a JSON string payload, base64 in the CLI's JSON.
    const marker = Buffer.from(JSON.stringify(FIFO_LINES)).toString('base64');
    const marked = histories.filter((h) => readFileSync(h.path, 'utf8').includes(marker)).map((h) => `${h.set}/${h.name}`);
    expect(marked).toEqual(sets.filter((set) => Number(set.slice(1)) >= FIFO_FROM_SET).map((set) => `${set}/fanout-fifo`));
  });

  it('marks only a fan-out that held a first attempt: one whose attempts all end in their batch records the commands the build before records', () => {
    const marker = Buffer.from(JSON.stringify(HOLD_FIRST_ATTEMPTS)).toString('base64');
    const marked = histories.filter((h) => readFileSync(h.path, 'utf8').includes(marker)).map((h) => `${h.set}/${h.name}`);
    const held = ['fanout-held', 'fanout-paced-1', 'fanout-paced-2'];
    expect(marked.sort()).toEqual(sets.filter((set) => Number(set.slice(1)) >= HELD_FROM_SET).flatMap((set) => held.map((name) => `${set}/${name}`)).sort());
  });
});
