import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { mongo } from 'mongoose';
import pLimit from 'p-limit';
import { newId } from '../ids';
import { eventsIngested } from '../metrics/metrics';
import type { Models } from '../models';
import { acceptedHourOf, eventKey } from '../models/event';
import { EventId, EventType, TenantId } from '../temporal/search-attributes';
import { eventWorkflowId } from '../temporal/workflow-ids';
import type { FanoutInput } from '../delivery/types';
import { WORKFLOW_TYPES } from '../temporal/workflow-types';
import { WORKFLOW_VERSION } from '../temporal/workflow-version';
import { isDuplicateKey } from '../models/duplicate-key';
import { InsertBatcher } from '../models/insert-batcher';
import { literal } from '../temporal/literal';

type StoredEvent = { _id: string } & mongo.Document;

/** Longest wait for Temporal to record a fan-out start before the producer gets 503. */
export const START_DEADLINE_MS = 10_000;

/** Thrown when an event id or Idempotency-Key is reused with a different body. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor(
    readonly eventId: string,
    /** Position of the event in a batch. */
    readonly index?: number,
  ) {
    super(`event ${eventId} was already accepted with a different body`);
  }
}

/**
 * Workflow task timeout of a fan-out (see startFanout): Temporal's default. At 30 s, every fan-out
 * a killed worker held waited 30 s; the chaos run delivered 12% more at 10 s (docs/reliability.md).
 */
export const FANOUT_WORKFLOW_TASK_TIMEOUT = '10 seconds';

/** Events of one batch accepted at once, so a batch of 100 is not 100 sequential round trips. */
const BATCH_CONCURRENCY = 10;

export interface NewEvent {
  type: string;
  data: unknown;
  id?: string;
  metadata?: Record<string, string>;
}

export interface AcceptedEvent {
  id: string;
  status: 'accepted';
  /** True when this id was accepted before: nothing new was fanned out. */
  duplicate: boolean;
}

/** JSON with object keys sorted, so the same body hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Id of the `index`-th event of a batch sent with an Idempotency-Key and no `id`. */
export function batchEventId(idempotencyKey: string, index: number): string {
  return `${idempotencyKey}.${index}`;
}

export interface EventIngestionDeps {
  models: Models;
  client: Client;
  taskQueue: string;
}

/**
 * Accepts an event: stores its payload, then starts its fan-out workflow. It returns only after
 * Temporal has durably recorded the start; any failure before that reaches the producer, who
 * retries with the same id and gets the same event, never a second fan-out.
 */
export class EventIngestion {
  // The driver's insert, not a mongoose document per event (casting, validation, change
  // tracking: API CPU on ingestion's hot path); concurrent requests share the writes.
  private readonly inserts: InsertBatcher<StoredEvent>;

  constructor(private readonly deps: EventIngestionDeps) {
    this.inserts = new InsertBatcher(deps.models.Event.collection as unknown as mongo.Collection<StoredEvent>);
  }

  async accept(tenantId: string, event: NewEvent, idempotencyKey?: string): Promise<AcceptedEvent> {
    const eventId = event.id ?? idempotencyKey ?? newId('evt');
    const metadata = event.metadata ?? {};
    const bodyHash = this.bodyHash(event);
    const { Event } = this.deps.models;
    const acceptedAt = new Date();
    try {
      await this.inserts.insert({
        _id: eventKey(tenantId, eventId),
        tenantId,
        eventId,
        type: event.type,
        data: JSON.stringify(event.data ?? null),
        metadata: Object.entries(metadata).map(([name, value]) => ({ name, value })),
        bodyHash,
        acceptedAt,
        acceptedHour: acceptedHourOf(acceptedAt),
        fanoutRecordedThrough: null,
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await Event.findById(eventKey(tenantId, eventId)).lean();
      if (existing?.bodyHash !== bodyHash) throw new IdempotencyConflictError(eventId);
    }
    // A duplicate is an event whose fan-out had started: a retry after a failed start fans out now.
    const duplicate = !(await this.startFanout(tenantId, eventId, event.type));
    eventsIngested.inc({ result: duplicate ? 'duplicate' : 'accepted' });
    return { id: eventId, status: 'accepted', duplicate };
  }

  /**
   * Accepts a batch: every event with its own `id`, else `<Idempotency-Key>.<index>`, else a new
   * id. A conflict found before anything starts rejects the whole batch; otherwise each event is
   * accepted as by `accept`, and a failure (Temporal down) reaches the producer, whose retry of
   * the same batch finds the events already accepted.
   */
  async acceptBatch(tenantId: string, events: readonly NewEvent[], idempotencyKey?: string): Promise<AcceptedEvent[]> {
    const withIds = events.map((event, index) => ({
      ...event,
      id: event.id ?? (idempotencyKey ? batchEventId(idempotencyKey, index) : newId('evt')),
    }));
    const existing = await this.deps.models.Event.find({ _id: { $in: withIds.map((e) => eventKey(tenantId, e.id)) } })
      .select({ eventId: 1, bodyHash: 1 })
      .lean();
    const hashes = new Map(existing.map((e) => [e.eventId, e.bodyHash]));
    withIds.forEach((event, index) => {
      const hash = hashes.get(event.id);
      if (hash !== undefined && hash !== this.bodyHash(event)) throw new IdempotencyConflictError(event.id, index);
    });
    const limit = pLimit(BATCH_CONCURRENCY);
    return Promise.all(
      withIds.map((event, index) =>
        limit(() =>
          this.accept(tenantId, event).catch((err: unknown) => {
            // The answer is this error: start no more of the batch (its retry finds the rest).
            limit.clearQueue();
            throw err instanceof IdempotencyConflictError ? new IdempotencyConflictError(err.eventId, index) : err;
          }),
        ),
      ),
    );
  }

  private bodyHash(event: NewEvent): string {
    return createHash('sha256').update(canonicalJson({ type: event.type, data: event.data, metadata: event.metadata ?? {} })).digest('hex');
  }

  /**
   * Starts the fan-out once; a start that already happened (running or finished) is success.
   * True when this call started it, false when it had started before.
   */
  private async startFanout(tenantId: string, eventId: string, eventType: string): Promise<boolean> {
    try {
      // A hung Temporal must answer the producer 503 within a bound, not hold its request.
      await this.deps.client.withDeadline(Date.now() + START_DEADLINE_MS, () => this.deps.client.workflow.start(WORKFLOW_TYPES.eventFanout, {
        workflowId: eventWorkflowId(tenantId, eventId),
        taskQueue: this.deps.taskQueue,
        args: [{ tenantId, eventId, eventType, version: WORKFLOW_VERSION } satisfies FanoutInput],
        // Running or closed, an existing fan-out is reported (AlreadyStarted): the answer's `duplicate`.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        // A page's first attempts run inside one workflow task, which the SDK heartbeats at 80% of
        // this timeout while they run; the timeout bounds how long a killed worker's task waits.
        workflowTaskTimeout: FANOUT_WORKFLOW_TASK_TIMEOUT,
        staticSummary: `fan-out of ${eventType} ${literal(eventId)}`,
        typedSearchAttributes: [
          { key: TenantId, value: tenantId },
          { key: EventId, value: eventId },
          { key: EventType, value: eventType },
        ],
      }));
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return false;
    }
  }
}
