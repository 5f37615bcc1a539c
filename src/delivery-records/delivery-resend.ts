import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { newId } from '../ids';
import type { Models } from '../models';
import { deliveryRunInput, indexedDelivery, startDeliveryRun } from './delivery-restart';
import { joinLines } from '../delivery/fifo-line';

/** What asking to resend a delivery came to. */
export type ResendOutcome = 'resent' | 'not_delivered' | 'in_progress' | 'not_found';

/**
 * Sends a delivered delivery again, on purpose: a new run of its workflow makes one attempt with
 * the same `webhook-id`, kept in that run's history like any attempt (so `GET /v1/deliveries/{id}`
 * lists it). The run carries a new resend id, and the deliver activity sends each resend id at
 * most once, so a reset or replay of that run never sends it again. The delivery stays delivered
 * whatever the resend's answer; its counters do not move. Only this operation re-sends a
 * delivered delivery. `tenantId` must own it (another tenant's delivery is `not_found`).
 */
export async function resendDelivery(client: Client, models: Models, deliveryId: string, taskQueue: string, tenantId: string): Promise<ResendOutcome> {
  const doc = await indexedDelivery(client, models, deliveryId, tenantId);
  if (!doc) return 'not_found';
  if (doc.status !== 'delivered') return 'not_delivered';
  const webhook = await models.Webhook.findOne({ _id: doc.webhookId, tenantId: doc.tenantId }).select({ url: 1, ordering: 1 }).lean();
  if (!webhook) return 'not_found';
  // From now on the delivery's workflow runs hold attempts too: the reader reads them.
  await models.Delivery.updateOne({ _id: deliveryId }, { $set: { retried: true } });
  const input = { ...deliveryRunInput(doc, webhook.url, 1), resendId: newId('rsd') };
  // A FIFO webhook's resend is sent in its turn, at the end of its line (delivery/fifo-line.ts).
  if (webhook.ordering === 'fifo') {
    await joinLines(models, client, taskQueue, [{ id: `${deliveryId}/${input.resendId}`, kind: 'resend', acceptedAt: new Date(), input }]);
    return 'resent';
  }
  try {
    await startDeliveryRun(client, doc, input, taskQueue, WorkflowIdReusePolicy.ALLOW_DUPLICATE, 'delivered');
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'in_progress';
    throw err;
  }
  return 'resent';
}
