/**
 * Sends the service's operational events (`delivery.exhausted`, `webhook.disabled`) from the
 * outcome records: one EventIngestion (and its insert batcher) per task queue of the worker,
 * made once, not per record. Ids are deterministic, so a record redone sends each event once.
 */
import { Context, log } from '@temporalio/activity';
import { EventIngestion, IdempotencyConflictError, type NewEvent } from '../events/event-ingestion';
import type { Models } from '../models';

export class OperationalEventSender {
  private readonly ingestions = new Map<string, EventIngestion>();

  constructor(private readonly models: Models) {}

  /** Sends `event` as the tenant's, fanned out on the calling activity's task queue; a failure throws (the record is retried). */
  async send(tenantId: string, event: NewEvent): Promise<void> {
    const { info, client } = Context.current();
    let ingestion = this.ingestions.get(info.taskQueue);
    if (!ingestion) this.ingestions.set(info.taskQueue, (ingestion = new EventIngestion({ models: this.models, client, taskQueue: info.taskQueue })));
    try {
      await ingestion.accept(tenantId, event);
    } catch (err) {
      // Sent before with another body (an older version's): the event exists, nothing to redo.
      if (!(err instanceof IdempotencyConflictError)) throw err;
      log.warn('operational event sent before with another body', { type: event.type, id: event.id });
    }
  }
}
