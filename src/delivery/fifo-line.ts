import type { Client } from '@temporalio/client';
import { LRUCache } from 'lru-cache';
import { mongo } from 'mongoose';
import pLimit from 'p-limit';
import { matchesEventType } from '../events/event-type';
import { deliveryId as deliveryIdOf } from '../ids';
import type { Models } from '../models';
import { isDuplicateKey } from '../models/duplicate-key';
import { eventKey } from '../models/event';
import type { FifoEntryDoc } from '../models/fifo-entry';
import { fifoJoinedSignal } from '../temporal/fifo-signals';
import { EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import { retryTaskQueue } from '../temporal/task-queues';
import { fifoSequencerWorkflowId } from '../temporal/workflow-ids';
import { WORKFLOW_TYPES } from '../temporal/workflow-types';
import { WORKFLOW_VERSION } from '../temporal/workflow-version';
import type { DeliveryInput } from './types';

/**
 * The line of a FIFO webhook (`ordering: "fifo"`): its deliveries wait here, in the database, in
 * acceptance order (the event's `acceptedAt`, then its id), and its sequencer workflow
 * (workflows/fifo-sequencer-workflow.ts) runs them one at a time. Hand-overs reach the line out
 * of order (fan-outs run concurrently, and a killed worker holds some back for a workflow-task
 * timeout), so an entry is released only when no entry can still come before it: it is older
 * than `FIFO_SETTLE_MS`, and no fan-out of an earlier event of a type the webhook takes is still
 * running without its entry in the line. Running fan-outs are read from Temporal's visibility
 * before the line is read, so an entry handed over between the two reads is in the line read.
 */

/**
 * How old an entry must be before it is released: the time an earlier event's fan-out may take
 * to show in Temporal's visibility as running (the API's start call, then visibility's lag).
 */
export const FIFO_SETTLE_MS = 2_000;

/**
 * How long an earlier event's fan-out holds the line back while it has not handed its delivery
 * over: a fan-out stuck longer (a workflow that cannot make progress) must not stop the line for good.
 */
export const FIFO_HANDOVER_WAIT_MS = 600_000;

/** How soon a line held back by a running fan-out is read again. */
export const FIFO_RECHECK_MS = 1_000;

/** Most entries one read of the line releases: the sequencer runs them in turn before reading again. */
export const FIFO_RELEASE_BATCH = 50;

/** An entry of the line, as the sequencer gets it. */
export interface FifoTurn {
  id: string;
  kind: 'event' | 'retry' | 'resend';
  input: DeliveryInput;
}

/** What the sequencer does next: run `entries` in turn; else read again in `waitMs`; null: the line is empty. */
export interface LineRead {
  entries: FifoTurn[];
  waitMs: number | null;
}

/** A delivery joining its webhook's line. */
export interface LineEntry {
  id: string;
  kind: FifoTurn['kind'];
  acceptedAt: Date;
  input: DeliveryInput;
}

/**
 * Adds entries to their webhooks' lines (an entry already there, or already run and removed, is
 * not added twice: a unique insert), then wakes each line's sequencer, starting it if it is not
 * running. `taskQueue` is the service's task queue; sequencers and their deliveries run on its
 * retry queue.
 */
export async function joinLines(models: Models, client: Client, taskQueue: string, entries: readonly LineEntry[]): Promise<void> {
  if (!entries.length) return;
  const now = new Date();
  const docs = entries.map(({ id, kind, acceptedAt, input }) => ({
    _id: id,
    tenantId: input.tenantId,
    webhookId: input.webhookId,
    deliveryId: input.deliveryId,
    eventId: input.eventId,
    acceptedAt,
    kind,
    input,
    createdAt: now,
  }));
  try {
    await models.FifoEntry.collection.insertMany(docs as unknown as mongo.OptionalId<mongo.Document>[], { ordered: false });
  } catch (err) {
    const writeErrors = err instanceof mongo.MongoBulkWriteError ? ([] as mongo.WriteError[]).concat(err.writeErrors) : [];
    if (!writeErrors.length || writeErrors.some((e) => !isDuplicateKey(e))) throw err;
  }
  const lines = new Map(entries.map(({ input }) => [`${input.tenantId}/${input.webhookId}`, input]));
  await Promise.all([...lines.values()].map((input) => wakeSequencer(client, taskQueue, input.tenantId, input.webhookId, input.host)));
}

async function wakeSequencer(client: Client, taskQueue: string, tenantId: string, webhookId: string, host: string): Promise<void> {
  await client.workflow.signalWithStart(WORKFLOW_TYPES.fifoSequencer, {
    workflowId: fifoSequencerWorkflowId(tenantId, webhookId),
    taskQueue: retryTaskQueue(taskQueue),
    args: [{ tenantId, webhookId, version: WORKFLOW_VERSION }],
    signal: fifoJoinedSignal,
    signalArgs: [],
    staticSummary: `FIFO line of ${host}`,
    staticDetails: `Deliveries to webhook ${webhookId} of tenant ${tenantId}, one at a time, in acceptance order`,
    typedSearchAttributes: [
      { key: TenantId, value: tenantId },
      { key: WebhookId, value: webhookId },
    ],
  });
}

/** Place in the line: acceptance time, then event id, then entry id. */
function before(a: { acceptedAt: Date; eventId: string; id: string }, b: { acceptedAt: Date; eventId: string; id: string }): boolean {
  const at = a.acceptedAt.getTime() - b.acceptedAt.getTime();
  if (at !== 0) return at < 0;
  if (a.eventId !== b.eventId) return a.eventId < b.eventId;
  return a.id < b.id;
}

/** Events never change: their acceptance times are kept, so a line held back reads each once. */
const acceptedAtOf = new LRUCache<string, number>({ max: 20_000 });

/** Events whose fan-out may still hand a delivery to this webhook's line: running, of a type it takes, accepted less than FIFO_HANDOVER_WAIT_MS ago. */
async function fanoutsStillRunning(models: Models, client: Client, tenantId: string, patterns: readonly string[], now: number): Promise<{ eventId: string; acceptedAt: Date }[]> {
  // A run that continued as new shows closed a moment before its next run shows running.
  const since = new Date(now - 60_000).toISOString();
  const query =
    `WorkflowType = '${WORKFLOW_TYPES.eventFanout}' AND TenantId = '${tenantId}' ` +
    `AND (ExecutionStatus = 'Running' OR (ExecutionStatus = 'ContinuedAsNew' AND CloseTime > '${since}'))`;
  const eventIds = new Set<string>();
  for await (const execution of client.workflow.list({ query })) {
    const eventId = execution.typedSearchAttributes.get(EventId);
    const type = execution.typedSearchAttributes.get(EventType);
    if (eventId && type && matchesEventType(patterns, type)) eventIds.add(eventId);
  }
  const limit = pLimit(10);
  const found = await Promise.all(
    [...eventIds].map((eventId) =>
      limit(async () => {
        const key = eventKey(tenantId, eventId);
        let at = acceptedAtOf.get(key);
        if (at === undefined) {
          const event = await models.Event.findById(key).select({ acceptedAt: 1 }).lean();
          if (!event) return null;
          at = new Date(event.acceptedAt).getTime();
          acceptedAtOf.set(key, at);
        }
        return now - at < FIFO_HANDOVER_WAIT_MS ? { eventId, acceptedAt: new Date(at) } : null;
      }),
    ),
  );
  return found.filter((f): f is { eventId: string; acceptedAt: Date } => f !== null);
}

/**
 * The entries of a webhook's line that may run now, in order (at most FIFO_RELEASE_BATCH), or
 * how long until it should be read again. An entry is released when it is older than
 * FIFO_SETTLE_MS and no fan-out of an earlier event still running lacks its entry here.
 */
export async function readLine(models: Models, client: Client, tenantId: string, webhookId: string, now = Date.now()): Promise<LineRead> {
  const webhook = await models.Webhook.findOne({ _id: webhookId, tenantId }).select({ events: 1 }).lean();
  // Fan-outs first, the line second: a hand-over between the two reads is in the line read.
  const running = webhook ? await fanoutsStillRunning(models, client, tenantId, webhook.events, now) : [];
  const docs = await models.FifoEntry.find({ webhookId, tenantId }).lean<FifoEntryDoc[]>();
  if (!docs.length) return { entries: [], waitMs: null };
  const line = docs.map((d) => ({ ...d, id: d._id, acceptedAt: new Date(d.acceptedAt) })).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  const inLine = new Set(line.map((e) => e.deliveryId));
  // The earliest event whose delivery may still join the line ahead of what is in it.
  const horizon = running
    .filter((r) => !inLine.has(deliveryIdOf(tenantId, r.eventId, webhookId)))
    .map((r) => ({ ...r, id: '' }))
    .reduce<{ acceptedAt: Date; eventId: string; id: string } | null>((min, r) => (!min || before(r, min) ? r : min), null);
  const released: FifoTurn[] = [];
  for (const entry of line) {
    if (released.length >= FIFO_RELEASE_BATCH || entry.acceptedAt.getTime() > now - FIFO_SETTLE_MS || (horizon && !before(entry, horizon))) break;
    released.push({ id: entry.id, kind: entry.kind as FifoTurn['kind'], input: entry.input as DeliveryInput });
  }
  if (released.length) return { entries: released, waitMs: null };
  const settlesIn = line[0].acceptedAt.getTime() + FIFO_SETTLE_MS - now;
  return { entries: [], waitMs: Math.max(settlesIn, horizon ? FIFO_RECHECK_MS : 100) };
}
