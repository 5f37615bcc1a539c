import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  continueAsNew,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { FanoutInput, FanoutResult, MatchedWebhook } from '../delivery/types';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import { deliveryWorkflowId } from '../temporal/workflow-ids';
import { DeliveryWorkflow } from './delivery-workflow';

/**
 * Webhooks matched and started per run. Each run starts at most this many children, then
 * continues as new: pending children stay far below Temporal's 2,000 limit and each run's
 * history stays small, whatever the fan-out. The server records every child start in the
 * parent's state, which costs more the more children are pending: on the dev server a page of
 * 100 fanned out 2,000 webhooks twice as fast as a page of 500 (see docs/delivery.md).
 */
export const FANOUT_PAGE_SIZE = 100;

/** Fans one accepted event out to one DeliveryWorkflow per matching active webhook. */
export async function EventFanoutWorkflow(input: FanoutInput): Promise<FanoutResult> {
  const { matchWebhooks } = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    // MongoDB being down must delay a fan-out, never drop it: retry without a limit.
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    summary: `webhooks subscribed to ${input.eventType}${input.cursor ? ` after ${input.cursor}` : ''}`,
  });
  const page = await matchWebhooks({
    tenantId: input.tenantId,
    eventId: input.eventId,
    eventType: input.eventType,
    after: input.cursor ?? null,
    limit: FANOUT_PAGE_SIZE,
  });
  await Promise.all(page.webhooks.map((webhook) => startDelivery(input, webhook)));
  const started = (input.started ?? 0) + page.webhooks.length;
  if (page.nextCursor) {
    return await continueAsNew<typeof EventFanoutWorkflow>({ ...input, cursor: page.nextCursor, started });
  }
  return { deliveries: started };
}

async function startDelivery(input: FanoutInput, webhook: MatchedWebhook): Promise<void> {
  const { tenantId, eventId, eventType } = input;
  const { deliveryId, webhookId, maxAttempts, host } = webhook;
  try {
    await startChild(DeliveryWorkflow, {
      workflowId: deliveryWorkflowId(deliveryId),
      args: [{ tenantId, eventId, eventType, deliveryId, webhookId, maxAttempts, host }],
      // Deliveries outlive the fan-out run that started them (it continues as new).
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // A replayed or reset fan-out must never deliver the same event to a webhook twice.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `${eventType} → ${host}`,
      staticDetails: `Event ${eventId} of tenant ${tenantId} to webhook ${webhookId}`,
      typedSearchAttributes: [
        { key: TenantId, value: tenantId },
        { key: EventId, value: eventId },
        { key: EventType, value: eventType },
        { key: WebhookId, value: webhookId },
        { key: DeliveryStatus, value: 'pending' },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
