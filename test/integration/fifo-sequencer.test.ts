import { ApplicationFailure } from '@temporalio/common';
import { DeliveryFailureType } from '../../src/delivery/failure-types';
import type { FifoTurn, LineRead } from '../../src/delivery/fifo-line';
import type { AttemptRecord, DeliveryInput } from '../../src/delivery/types';
import { WORKFLOW_VERSION } from '../../src/temporal/workflow-version';
import { FIFO_TURNS_PER_RUN } from '../../src/workflows/fifo-sequencer-workflow';
import { uniqueName } from '../support/stack';
import { useStubbedWorkflows } from '../support/time-skipping';

const answered = (deliveryId: string): AttemptRecord => ({ attempt: 1, startedAt: new Date().toISOString(), durationMs: 1, statusCode: 200, errorClass: null, error: null, response: deliveryId });

/**
 * The sequencer's own logic on the time-skipping server, its activities stubbed (the full stack's
 * test is fifo-ordering.test.ts): a line of entries run one at a time, in the order read, as
 * child DeliveryWorkflows under the deliveries' ids; a failed one does not stop the line; runs
 * continue as new with the entries run so far left for the next read to remove; an empty line ends it.
 */
describe('FifoSequencerWorkflow (time-skipping server, stubbed activities)', () => {
  /** The line the stubbed reads serve, in order, and what each read was told to remove. */
  let line: FifoTurn[] = [];
  const removed: string[][] = [];
  const sent: string[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const failing = new Set<string>();

  const suite = useStubbedWorkflows({
    readFifoLine: async ({ done = [] }): Promise<LineRead> => {
      removed.push(done);
      line = line.filter((e) => !done.includes(e.id));
      return line.length ? { entries: line.slice(0, 50), waitMs: null } : { entries: [], waitMs: null };
    },
    deliver: async (input: DeliveryInput) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      sent.push(input.deliveryId);
      if (failing.has(input.deliveryId)) throw ApplicationFailure.create({ type: DeliveryFailureType.Gone, message: 'HTTP 410 Gone', nonRetryable: true });
      return { status: 'delivered', attempts: [answered(input.deliveryId)] };
    },
    recordDeliveryOutcome: async () => null,
    deliveryRunClosed: async () => 'COMPLETED',
  });

  const entry = (n: number): FifoTurn => {
    const deliveryId = uniqueName(`dlv_${String(n).padStart(4, '0')}`);
    const input: DeliveryInput = { tenantId: 'ten_1', eventId: `ev-${n}`, eventType: 'a.b', deliveryId, webhookId: 'wh_1', maxAttempts: 1, host: 'r.example', version: WORKFLOW_VERSION };
    return { id: deliveryId, kind: 'event', input };
  };

  it(`runs the line one at a time in order, past a failed delivery, continues as new after ${FIFO_TURNS_PER_RUN} and ends once the line stays empty`, async () => {
    const entries = Array.from({ length: FIFO_TURNS_PER_RUN + 20 }, (_, i) => entry(i));
    failing.add(entries[3].id);
    line = [...entries];
    const workflowId = uniqueName('fifo/ten_1/wh_1');
    await suite.env.client.workflow.execute('FifoSequencerWorkflow', { workflowId, taskQueue: suite.taskQueue, args: [{ tenantId: 'ten_1', webhookId: 'wh_1', version: WORKFLOW_VERSION }] });

    expect(sent).toEqual(entries.map((e) => e.id));
    expect(mostInFlight).toBe(1);
    // Each delivery is its own workflow, under its id, and the one that got 410 failed.
    expect((await suite.env.client.workflow.getHandle(entries[3].id).describe()).status.name).toBe('FAILED');
    expect((await suite.env.client.workflow.getHandle(entries[4].id).describe()).status.name).toBe('COMPLETED');
    // Each child started after the one before it closed.
    for (let i = 1; i < 10; i++) {
      const [before, after] = await Promise.all([entries[i - 1], entries[i]].map((e) => suite.env.client.workflow.getHandle(e.id).describe()));
      expect(after.startTime.getTime()).toBeGreaterThanOrEqual(before.closeTime!.getTime());
    }
    // The second run's first read removed what the first run had run since its last read.
    const history = await suite.env.client.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events![0].workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBeTruthy();
    expect(removed.flat().sort()).toEqual(entries.map((e) => e.id).sort());
    expect(line).toEqual([]);
  }, 120_000);
});
