import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { maxAttempts } from '../delivery/retry-schedule';
import type { DeliveryInput } from '../delivery/types';
import type { Models } from '../models';
import { createdHourOf, type DeliveryDoc } from '../models/delivery';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import { retryTaskQueue } from '../temporal/task-queues';
import { deliveryWorkflowId } from '../temporal/workflow-ids';
import { WORKFLOW_TYPES } from '../temporal/workflow-types';
import { WORKFLOW_VERSION } from '../temporal/workflow-version';
import { reopenDelivery } from './delivery-index';
import { deliveryStatus } from './delivery-status';
import { literal } from '../temporal/literal';
import { joinLines } from '../delivery/fifo-line';

/**
 * A delivery whose workflow ended before the deliveries index existed: indexed from its
 * workflow's search attributes, so it can be retried like any other. Undefined when there is no
 * such workflow (or it belongs to another tenant).
 */
async function indexFromWorkflow(client: Client, models: Models, deliveryId: string, tenantId?: string): Promise<DeliveryDoc | undefined> {
  let description;
  try {
    description = await client.workflow.getHandle(deliveryId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const attributes = description.typedSearchAttributes;
  const owner = attributes.get(TenantId);
  if (description.type !== WORKFLOW_TYPES.delivery || !owner || (tenantId && owner !== tenantId)) return undefined;
  const status = deliveryStatus(description.status.name, attributes.get(DeliveryStatus));
  const doc = {
    _id: deliveryId,
    tenantId: owner,
    webhookId: attributes.get(WebhookId) ?? '',
    eventId: attributes.get(EventId) ?? '',
    eventType: attributes.get(EventType) ?? '',
    status,
    attempts: 0,
    durationMs: null,
    reason: null,
    nextAttemptAt: null,
    fanoutRunId: null,
    retried: true,
    createdAt: description.startTime,
    createdHour: createdHourOf(description.startTime),
    completedAt: description.closeTime ?? null,
  };
  await models.Delivery.updateOne({ _id: deliveryId }, { $setOnInsert: doc }, { upsert: true });
  return doc as DeliveryDoc;
}

/** A delivery from the index, or indexed now from a workflow that predates the index. */
export async function indexedDelivery(client: Client, models: Models, deliveryId: string, tenantId?: string): Promise<DeliveryDoc | undefined> {
  return (
    (await models.Delivery.findOne({ _id: deliveryId, ...(tenantId ? { tenantId } : {}) }).lean<DeliveryDoc>()) ??
    (await indexFromWorkflow(client, models, deliveryId, tenantId))
  );
}

/** The input of a new run of an indexed delivery's workflow, to the webhook's current URL. */
export function deliveryRunInput(doc: DeliveryDoc, url: string, attempts: number): DeliveryInput {
  return {
    tenantId: doc.tenantId,
    eventId: doc.eventId,
    eventType: doc.eventType,
    deliveryId: doc._id,
    webhookId: doc.webhookId,
    maxAttempts: attempts,
    host: new URL(url).host,
    version: WORKFLOW_VERSION,
    dueAt: new Date().toISOString(),
  };
}

/**
 * Starts a new run of a delivery's workflow (its id is the delivery's), as the Web UI shows it,
 * on the retry queue of the service's task queue `taskQueue`.
 */
export async function startDeliveryRun(
  client: Client,
  doc: DeliveryDoc,
  input: DeliveryInput,
  taskQueue: string,
  workflowIdReusePolicy: WorkflowIdReusePolicy,
  status: 'pending' | 'delivered',
): Promise<void> {
  await client.workflow.start(WORKFLOW_TYPES.delivery, {
    workflowId: deliveryWorkflowId(doc._id),
    taskQueue: retryTaskQueue(taskQueue),
    args: [input],
    workflowIdReusePolicy,
    staticSummary: `${input.resendId ? 'resend: ' : ''}${doc.eventType} → ${input.host}`,
    staticDetails: `Event ${literal(doc.eventId)} of tenant ${literal(doc.tenantId)} to webhook ${literal(doc.webhookId)}`,
    typedSearchAttributes: [
      { key: TenantId, value: doc.tenantId },
      { key: EventId, value: doc.eventId },
      { key: EventType, value: doc.eventType },
      { key: WebhookId, value: doc.webhookId },
      { key: DeliveryStatus, value: status },
    ],
  });
}

/** What asking to deliver a delivery again came to. */
export type RestartOutcome = 'restarted' | 'delivered' | 'in_progress' | 'not_found';

/**
 * Runs a failed (or canceled) delivery again, from its first attempt and the webhook's current
 * schedule: its workflow id is started with ALLOW_DUPLICATE_FAILED_ONLY, so a delivered one can
 * never be sent twice, whatever races with this call; a delivery that failed on its inline first
 * attempt gets its first DeliveryWorkflow here. The one mechanism behind retry and bulk requeue.
 * `tenantId`, when given, must own the delivery (another tenant's delivery is `not_found`).
 */
export async function restartDelivery(client: Client, models: Models, deliveryId: string, taskQueue: string, tenantId?: string): Promise<RestartOutcome> {
  for (let read = 1; read <= MAX_REOPEN_READS; read++) {
    const doc = await indexedDelivery(client, models, deliveryId, tenantId);
    if (!doc) return 'not_found';
    if (doc.status === 'delivered') return 'delivered';
    if (doc.status === 'pending' || doc.status === 'retrying') return 'in_progress';
    const webhook = await models.Webhook.findOne({ _id: doc.webhookId, tenantId: doc.tenantId }).select({ url: 1, retrySchedule: 1, ordering: 1 }).lean();
    if (!webhook) return 'not_found';
    // Changed between the read and the reopening (another retry, a run ending): read it again.
    if (await reopenDelivery(models, deliveryId)) return startReopened(client, models, doc, webhook, taskQueue);
  }
  // Still changing after every read: someone else is moving it, which is what "in progress" says.
  return 'in_progress';
}

/** Reads of a delivery that changed before it could be reopened, before a retry answers "in progress". */
const MAX_REOPEN_READS = 5;

/** Starts the run of a delivery this call reopened; undoes the reopening when no run was started. */
async function startReopened(
  client: Client,
  models: Models,
  doc: DeliveryDoc,
  webhook: { url: string; retrySchedule?: string[] | null; ordering?: string | null },
  taskQueue: string,
): Promise<RestartOutcome> {
  const deliveryId = doc._id;
  const input = deliveryRunInput(doc, webhook.url, maxAttempts(webhook.retrySchedule));
  // Undoes the reopening when no run was started: the index keeps what it said.
  const unreopen = () => models.Delivery.updateOne({ _id: deliveryId, status: 'pending' }, { $set: { status: doc.status, completedAt: doc.completedAt, reason: doc.reason } });
  // A FIFO webhook's delivery runs again in its turn, at the end of its line (delivery/fifo-line.ts).
  if (webhook.ordering === 'fifo') {
    const now = new Date();
    await joinLines(models, client, taskQueue, [{ id: `${deliveryId}/retry/${now.getTime()}`, kind: 'retry', acceptedAt: now, input }]).catch(async (err: unknown) => {
      await unreopen();
      throw err;
    });
    return 'restarted';
  }
  for (let start = 1; ; start++) {
    try {
      await startDeliveryRun(client, doc, input, taskQueue, WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY, 'pending');
      return 'restarted';
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        await unreopen();
        throw err;
      }
      // A run records its outcome in the index a moment before it closes: one that said failed
      // may still be closing. Completed (delivered), or another run (a reset) still going: the
      // index learns it from that run.
      const status = await statusOnceClosed(client, deliveryId);
      if (status === 'COMPLETED') {
        // Its run delivered it (an index that said failed was stale): the reopening must not stay as "pending".
        await unreopen();
        return 'delivered';
      }
      if (status === 'RUNNING' || start === 2) {
        await unreopen();
        return 'in_progress';
      }
    }
  }
}

/** How long a retry waits for the delivery's last run to close before it answers "in progress". */
const RUN_CLOSING_WAIT_MS = 2_000;

/** The status of the delivery's latest run once it is closed, or RUNNING after RUN_CLOSING_WAIT_MS. */
async function statusOnceClosed(client: Client, deliveryId: string): Promise<string> {
  const handle = client.workflow.getHandle(deliveryId);
  const deadline = Date.now() + RUN_CLOSING_WAIT_MS;
  for (;;) {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING' || Date.now() >= deadline) return status.name;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
