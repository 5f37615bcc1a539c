import type { Client } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import type { DeliveryStatus as Status } from '../delivery/types';
import { DeliveryStatus, EventId, EventType, WebhookId } from '../temporal/search-attributes';
import { deliveryStatus } from './delivery-status';
import { deliveryQuery, type DeliveryFilter } from './visibility-query';

/** One delivery as lists show it: from visibility alone, no history read. */
export interface DeliverySummary {
  id: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  status: Status;
  createdAt: string;
  completedAt: string | null;
}

export interface DeliveryPage {
  deliveries: DeliverySummary[];
  nextCursor: string | null;
}

/**
 * Lists deliveries, newest first, with one visibility query on the search attributes; Temporal's
 * page token travels as an opaque cursor. No second copy of the delivery log exists.
 */
export async function listDeliveries(client: Client, filter: DeliveryFilter, limit: number, cursor?: string): Promise<DeliveryPage> {
  const { namespace, loadedDataConverter } = client.workflow.options;
  const response = await client.workflowService.listWorkflowExecutions({
    namespace,
    query: deliveryQuery(filter),
    pageSize: limit,
    nextPageToken: cursor ? Buffer.from(cursor, 'base64url') : undefined,
  });
  const listed = await Promise.all(
    response.executions.map(async (raw) => {
      const info = await executionInfoFromRaw(raw, loadedDataConverter, raw, namespace);
      const attributes = info.typedSearchAttributes;
      const summary: DeliverySummary = {
        id: info.workflowId,
        eventId: attributes.get(EventId) ?? '',
        eventType: attributes.get(EventType) ?? '',
        webhookId: attributes.get(WebhookId) ?? '',
        status: deliveryStatus(info.status.name, attributes.get(DeliveryStatus)),
        createdAt: info.startTime.toISOString(),
        completedAt: info.closeTime?.toISOString() ?? null,
      };
      return (await isSuperseded(client, summary, info.runId)) ? undefined : summary;
    }),
  );
  const token = response.nextPageToken;
  return {
    deliveries: listed.filter((d): d is DeliverySummary => d !== undefined),
    nextCursor: token && token.length ? Buffer.from(token).toString('base64url') : null,
  };
}

/**
 * Visibility keeps every run of a workflow id. A failed or canceled run that was retried or
 * requeued has a newer run, which is the delivery's current state: the old one is left out.
 * Only failed and canceled runs can have successors, so only they cost a lookup.
 */
async function isSuperseded(client: Client, delivery: DeliverySummary, runId: string): Promise<boolean> {
  if (delivery.status !== 'failed' && delivery.status !== 'canceled') return false;
  const latest = await client.workflow.getHandle(delivery.id).describe();
  return latest.runId !== runId;
}

/** How many deliveries match `filter` (visibility count, no listing). */
export async function countDeliveries(client: Client, filter: DeliveryFilter): Promise<number> {
  return (await client.workflow.count(deliveryQuery(filter))).count;
}
