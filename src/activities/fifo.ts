import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { joinLines, readLine, type LineRead } from '../delivery/fifo-line';
import type { EventRef, MatchedWebhook } from '../delivery/types';
import type { Models } from '../models';
import { eventKey } from '../models/event';
import { deliveryWorkflowId } from '../temporal/workflow-ids';
import { WORKFLOW_VERSION } from '../temporal/workflow-version';
import type { PageCache } from './page-cache';

/** A page's deliveries to FIFO webhooks, handed to their lines by the fan-out. */
export interface JoinFifoLinesInput extends EventRef {
  deliveries: Pick<MatchedWebhook, 'deliveryId' | 'webhookId' | 'maxAttempts' | 'host'>[];
}

/** How often waiting for a delivery's run to close heartbeats (and reads its status). */
const RUN_CLOSED_POLL_MS = 2_000;

/**
 * The activities of FIFO webhooks' lines (delivery/fifo-line.ts): the fan-out's hand-over, and
 * the sequencer's reads and removals.
 */
export function createFifoActivities(models: Models, cache: PageCache) {
  return {
    /**
     * The fan-out's hand-over (local activity): each delivery joins its webhook's line at its
     * event's acceptance time, and the line's sequencer is woken. An event no longer stored goes
     * to the end of the line (its delivery then ends failed, as any delivery of a swept event).
     */
    async joinFifoLines({ tenantId, eventId, eventType, deliveries }: JoinFifoLinesInput): Promise<void> {
      const key = eventKey(tenantId, eventId);
      const event = cache.event(key) ?? (await models.Event.findById(key).select({ acceptedAt: 1 }).lean());
      const acceptedAt = event ? new Date(event.acceptedAt) : new Date();
      const entries = deliveries.map(({ deliveryId, webhookId, maxAttempts, host }) => ({
        id: deliveryId,
        kind: 'event' as const,
        acceptedAt,
        input: { tenantId, eventId, eventType, deliveryId, webhookId, maxAttempts, host, version: WORKFLOW_VERSION },
      }));
      await joinLines(models, Context.current().client, Context.current().info.taskQueue, entries);
    },

    /** The sequencer's read of its line (local activity), after removing the entries it ran to their end. */
    async readFifoLine({ tenantId, webhookId, done = [] }: { tenantId: string; webhookId: string; done?: string[] }): Promise<LineRead> {
      if (done.length) await models.FifoEntry.deleteMany({ webhookId, _id: { $in: done } });
      return await readLine(models, Context.current().client, tenantId, webhookId);
    },

    /**
     * Waits for the delivery's current run to close (one started elsewhere: an operator's reset,
     * a retry from before the webhook was FIFO), so the line's next entry never overlaps it.
     * Returns the run's status, or NOT_FOUND.
     */
    async deliveryRunClosed({ deliveryId }: { deliveryId: string }): Promise<string> {
      const context = Context.current();
      const handle = context.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
      for (;;) {
        let status: string;
        try {
          status = (await handle.describe()).status.name;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
          throw err;
        }
        if (status !== 'RUNNING') return status;
        context.heartbeat();
        log.info('waiting for the delivery\'s run to close before the next in line', { deliveryId });
        await context.sleep(RUN_CLOSED_POLL_MS);
      }
    },
  };
}
