import { isDeepStrictEqual } from 'node:util';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { batchEventId, EventIngestion, IdempotencyConflictError } from '../../events/event-ingestion';
import { eventTypeSchema } from '../../events/event-type';
import { isOperationalEventType, OPERATIONAL_EVENT_TYPES } from '../../events/operational-event-types';
import type { Client } from '@temporalio/client';
import { listDeliveries } from '../../delivery-records/delivery-list';
import { readDelivery, RunHistories, type DeliveryDetail } from '../../delivery-records/delivery-reader';
import { eventEnvelope } from '../../events/event-envelope';
import { listEvents } from '../../events/event-list';
import { eventListQuerySchema } from '../schemas/event';
import type { Models } from '../../models';
import { eventKey, type EventDoc } from '../../models/event';
import { ApiError, notFound } from '../errors';
import { encodeCursor } from '../list-cursor';
import { eventDeliveriesQuerySchema } from '../schemas/delivery';
import { route } from '../validate';
import { metadataSchema } from '../schemas/webhook';
import { eventIdSchema } from '../schemas/event-id';

/** Event ids' schema lives with the schemas (the delivery log filters by it); kept importable from here. */
export { eventIdSchema };

const RESERVED_TYPES = Object.values(OPERATIONAL_EVENT_TYPES);

/**
 * The type of an event a tenant sends: not one the service sends itself (operational events), so a
 * receiver can trust a `webhook.disabled`, `delivery.exhausted` or circuit event to come from the service.
 */
const tenantEventTypeSchema = eventTypeSchema
  .refine((type) => !isOperationalEventType(type), `${RESERVED_TYPES.join(', ')} are sent by the service itself`)
  .meta({ not: { enum: RESERVED_TYPES } });

export const newEventSchema = z.strictObject({
  type: tenantEventTypeSchema,
  data: z
    .unknown()
    .refine((d) => d !== undefined, 'data is required')
    .meta({ description: 'Any JSON value, sent to the receiver as given; no object in it may have a key `__proto__`, nor nest deeper than 64 levels.' }),
  id: eventIdSchema.optional(),
  metadata: metadataSchema.optional(),
});
type NewEventBody = z.output<typeof newEventSchema>;

/** Most events in one batch request. */
export const MAX_BATCH_EVENTS = 100;

/**
 * A batch may name one id twice, as two requests may: the same body is the same event, a
 * different one a conflict (409 before anything is accepted; see sameIdDifferentBody).
 */
export const eventBatchSchema = z.strictObject({
  events: z.array(newEventSchema).min(1).max(MAX_BATCH_EVENTS),
});

/** The first event of a batch that repeats an earlier one's id with another body, with its index. */
function sameIdDifferentBody(events: readonly NewEventBody[], key: string | undefined): { index: number; id: string } | undefined {
  const body = (e: NewEventBody) => ({ type: e.type, data: e.data, metadata: e.metadata ?? {} });
  const first = new Map<string, NewEventBody>();
  for (const [index, event] of events.entries()) {
    const id = event.id ?? (key === undefined ? undefined : batchEventId(key, index));
    if (id === undefined) continue;
    const earlier = first.get(id);
    if (!earlier) first.set(id, event);
    else if (!isDeepStrictEqual(body(earlier), body(event))) return { index, id };
  }
  return undefined;
}

const singleHeaders = z.object({ 'idempotency-key': eventIdSchema.optional() });
// A batch's key names its events `<key>.<index>`, which must still be a valid event id.
const batchHeaders = z.object({ 'idempotency-key': eventIdSchema.max(124).optional() });

function idempotencyKey(schema: typeof singleHeaders, req: Request): string | undefined {
  const headers = schema.safeParse(req.headers);
  if (!headers.success) {
    throw new ApiError(400, 'validation_failed', 'request is invalid', [
      { path: 'headers.idempotency-key', message: headers.error.issues[0].message },
    ]);
  }
  return headers.data['idempotency-key'];
}

function conflict(err: unknown): unknown {
  if (!(err instanceof IdempotencyConflictError)) return err;
  const details = err.index === undefined ? [] : [{ path: `events.${err.index}`, message: err.message }];
  return new ApiError(409, 'idempotency_conflict', err.message, details);
}

/** Reads each delivery of a page at once, but no more than this many histories at a time. */
const READ_CONCURRENCY = 10;

export function eventsRouter(ingestion: EventIngestion, models: Models, temporal: Client): Router {
  const router = Router();

  router.get(
    '/',
    route({ query: eventListQuerySchema }, async ({ query }, _req, res) => {
      const page = await listEvents(
        models,
        { tenantId: res.locals.tenantId as string, type: query.type, since: query.since ? new Date(query.since) : undefined, until: query.until ? new Date(query.until) : undefined },
        query.limit,
        query.cursor,
      );
      res.json({ events: page.events, nextCursor: page.next && encodeCursor(page.next) });
    }),
  );

  router.get(
    '/:id',
    route({ params: z.strictObject({ id: eventIdSchema }), query: eventDeliveriesQuerySchema }, async ({ params, query }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      const event = await models.Event.findById(eventKey(tenantId, params.id)).lean<EventDoc>();
      if (!event) throw notFound('event');
      const page = await listDeliveries(models, { tenantId, eventId: params.id }, query.limit, query.cursor);
      const deliveries: DeliveryDetail[] = [];
      // The event's fan-out history holds every first attempt: fetched once for the page.
      const histories = new RunHistories(temporal);
      for (let i = 0; i < page.deliveries.length; i += READ_CONCURRENCY) {
        const read = await Promise.all(page.deliveries.slice(i, i + READ_CONCURRENCY).map((d) => readDelivery(temporal, models, d.id, tenantId, histories)));
        deliveries.push(...read.filter((d): d is DeliveryDetail => d !== undefined));
      }
      res.json({ event: eventEnvelope(event), deliveries, nextCursor: page.next && encodeCursor(page.next) });
    }),
  );

  router.post(
    '/',
    route({ body: newEventSchema }, async ({ body }, req, res) => {
      const key = idempotencyKey(singleHeaders, req);
      if (key !== undefined && body.id !== undefined && key !== body.id) {
        throw new ApiError(400, 'validation_failed', 'request is invalid', [
          { path: 'headers.idempotency-key', message: `differs from the body's id ${body.id}: give one, or the same in both` },
        ]);
      }
      const accepted = await ingestion.accept(res.locals.tenantId as string, body, key).catch((err: unknown) => Promise.reject(conflict(err)));
      res.status(202).json(accepted);
    }),
  );

  router.post(
    '/batch',
    route({ body: eventBatchSchema }, async ({ body }, req, res) => {
      const key = idempotencyKey(batchHeaders, req);
      const repeated = sameIdDifferentBody(body.events, key);
      if (repeated) {
        const message = `event ${repeated.id} appears earlier in the batch with a different body`;
        throw new ApiError(409, 'idempotency_conflict', message, [{ path: `events.${repeated.index}`, message }]);
      }
      const events = await ingestion.acceptBatch(res.locals.tenantId as string, body.events, key).catch((err: unknown) => Promise.reject(conflict(err)));
      res.status(202).json({ events });
    }),
  );

  return router;
}
