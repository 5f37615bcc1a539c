import {
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { FifoTurn } from '../delivery/fifo-line';
import type { Versioned } from '../delivery/types';
import { fifoJoinedSignal } from '../temporal/fifo-signals';
import { literal } from '../temporal/literal';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import { deliveryWorkflowId } from '../temporal/workflow-ids';
import { DeliveryWorkflow } from './delivery-workflow';

export interface FifoSequencerInput extends Versioned {
  tenantId: string;
  webhookId: string;
  /** Entries the previous run ran to their end, left for this run's first read to remove. */
  done?: string[];
}

/** Deliveries run per run of the sequencer, then it continues as new: its history stays bounded. */
export const FIFO_TURNS_PER_RUN = 200;

/** How long a sequencer whose line is empty waits for a hand-over before it ends (the next one starts it again). */
export const FIFO_IDLE_TIMEOUT = '1 minute';

/** Reading and changing the line: the database being down must hold the line, never drop an entry, so retried without a limit. */
const { readFifoLine } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

const { deliveryRunClosed } = proxyActivities<Activities>({
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** How an entry's run may reuse its delivery's workflow id: an event's delivery never runs twice; a retry only after a failed run; a resend after any. */
const REUSE_POLICY: Record<FifoTurn['kind'], WorkflowIdReusePolicy> = {
  event: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  retry: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
  resend: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
};

/**
 * A FIFO webhook's line (delivery/fifo-line.ts): one execution per webhook, started and woken by
 * the hand-overs. It reads the entries the line may release, in acceptance order, and runs each
 * as a child DeliveryWorkflow (the delivery's own workflow id, so its audit, status and retry
 * are those of any delivery), waiting for it to close, delivered or finally failed, before the
 * next. It ends when its line stays empty for FIFO_IDLE_TIMEOUT.
 */
export async function FifoSequencerWorkflow(input: FifoSequencerInput): Promise<void> {
  let joined = false;
  setHandler(fifoJoinedSignal, () => {
    joined = true;
  });
  const { tenantId, webhookId } = input;
  // Run to their end and not yet removed: the next read removes them first (one write per read, not per turn).
  let done = input.done ?? [];
  for (let turns = 0; ; ) {
    joined = false;
    const read = await readFifoLine({ tenantId, webhookId, done });
    done = [];
    for (const entry of read.entries) {
      await runTurn(entry);
      done.push(entry.id);
      turns++;
      // Checked after every turn: each hand-over's signal is an event too, and a burst of them
      // during one batch must not take the history to its limit. Entries not run stay in the line.
      if (turns >= FIFO_TURNS_PER_RUN || workflowInfo().continueAsNewSuggested) {
        return await continueAsNew<typeof FifoSequencerWorkflow>({ ...input, done });
      }
    }
    if (read.entries.length) continue;
    if (read.waitMs !== null) {
      await condition(() => joined, read.waitMs);
      continue;
    }
    // Empty: a hand-over arriving while this run closes is refused the close, so it is never lost.
    if (!(await condition(() => joined, FIFO_IDLE_TIMEOUT))) return;
  }
}

/** Runs one entry's delivery to its end; a run of it going on already (started elsewhere) is waited for, then it starts. */
async function runTurn(entry: FifoTurn): Promise<void> {
  const { input } = entry;
  for (let start = 1; start <= 2; start++) {
    try {
      const child = await startChild(DeliveryWorkflow, {
        workflowId: deliveryWorkflowId(input.deliveryId),
        // Due at its turn: an open circuit breaker holds it no longer than its schedule from now.
        args: [{ ...input, dueAt: new Date().toISOString() }],
        taskQueue: workflowInfo().taskQueue,
        // The delivery outlives this run of the sequencer if the sequencer is terminated.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: REUSE_POLICY[entry.kind],
        staticSummary: `${entry.kind === 'resend' ? 'resend: ' : ''}${input.eventType} → ${input.host} (FIFO)`,
        staticDetails: `Event ${literal(input.eventId)} of tenant ${literal(input.tenantId)} to webhook ${literal(input.webhookId)}, in its FIFO line`,
        typedSearchAttributes: [
          { key: TenantId, value: input.tenantId },
          { key: EventId, value: input.eventId },
          { key: EventType, value: input.eventType },
          { key: WebhookId, value: input.webhookId },
          { key: DeliveryStatus, value: entry.kind === 'resend' ? 'delivered' : 'pending' },
        ],
      });
      try {
        await child.result();
      } catch (err) {
        // Failed or canceled for good: its outcome is on record; the line goes on.
        if (!(err instanceof ChildWorkflowFailure)) throw err;
      }
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Run already (a hand-over made twice, an operator's reset going on): never sent twice, never beside the next.
      const status = await deliveryRunClosed({ deliveryId: input.deliveryId });
      log.info('delivery already run or running elsewhere; waited for it', { deliveryId: input.deliveryId, kind: entry.kind, status });
      if (entry.kind === 'event' || status === 'COMPLETED') return;
    }
  }
}
