import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';

/** What asking to deliver a delivery again came to. */
export type RestartOutcome = 'restarted' | 'delivered' | 'in_progress' | 'not_found';

/**
 * Runs a failed (or canceled) delivery again: its workflow id is started anew with
 * ALLOW_DUPLICATE_FAILED_ONLY and its original input, so a delivered one can never be sent
 * twice, whatever races with this call. The one mechanism behind retry and bulk requeue.
 * `tenantId`, when given, must own the delivery (another tenant's delivery is `not_found`).
 */
export async function restartDelivery(client: Client, deliveryId: string, tenantId?: string): Promise<RestartOutcome> {
  const handle = client.workflow.getHandle(deliveryId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not_found';
    throw err;
  }
  const attributes = description.typedSearchAttributes;
  if (description.type !== 'DeliveryWorkflow' || (tenantId && attributes.get(TenantId) !== tenantId)) return 'not_found';
  if (description.status.name === 'COMPLETED') return 'delivered';
  if (description.status.name === 'RUNNING') return 'in_progress';

  // The original input is the first event of the run's history.
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new Error(`delivery ${deliveryId} has no recorded input`);
  const input = client.workflow.options.loadedDataConverter.payloadConverter.fromPayload(payload);
  try {
    await client.workflow.start('DeliveryWorkflow', {
      workflowId: deliveryId,
      taskQueue: description.taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      staticSummary: (await description.staticSummary()) ?? undefined,
      typedSearchAttributes: [
        { key: TenantId, value: attributes.get(TenantId) ?? '' },
        { key: EventId, value: attributes.get(EventId) ?? '' },
        { key: EventType, value: attributes.get(EventType) ?? '' },
        { key: WebhookId, value: attributes.get(WebhookId) ?? '' },
        { key: DeliveryStatus, value: 'pending' },
      ],
    });
    return 'restarted';
  } catch (err) {
    // Someone else restarted it, or it was delivered, between describe and start.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const now = await handle.describe();
      return now.status.name === 'COMPLETED' ? 'delivered' : 'in_progress';
    }
    throw err;
  }
}
