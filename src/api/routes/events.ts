import { Router, type Request } from 'express';
import { z } from 'zod';
import { EventIngestion, IdempotencyConflictError } from '../../events/event-ingestion';
import { eventTypeSchema } from '../../events/event-type';
import type { Client } from '@temporalio/client';
import { listDeliveries } from '../../delivery-records/delivery-list';
import { readDelivery, RunHistories, type DeliveryDetail } from '../../delivery-records/delivery-reader';
import { eventEnvelope } from '../../events/event-envelope';
import type { Models } from '../../models';
import { eventKey, type EventDoc } from '../../models/event';
import { ApiError, notFound } from '../errors';
import { encodeCursor } from '../list-cursor';
import { cursorPosition } from './webhook-deliveries';
import { eventDeliveriesQuerySchema } from '../schemas/delivery';
import { route } from '../validate';
import { metadataSchema } from '../schemas/webhook';

/** Event ids (given `id` or `Idempotency-Key`) become part of workflow ids: keep them plain. */
export const eventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'expected 1-128 characters of letters, digits, _ . : -');

export const newEventSchema = z.strictObject({
  type: eventTypeSchema,
  data: z.unknown().refine((d) => d !== undefined, 'data is required'),
  id: eventIdSchema.optional(),
  metadata: metadataSchema.optional(),
});

/** Most events in one batch request. */
export const MAX_BATCH_EVENTS = 100;

export const eventBatchSchema = z.strictObject({
  events: z
    .array(newEventSchema)
    .min(1)
    .max(MAX_BATCH_EVENTS)
    .superRefine((events, ctx) => {
      const seen = new Set<string>();
      events.forEach((event, index) => {
        if (event.id === undefined) return;
        if (seen.has(event.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `id ${event.id} appears twice in the batch` });
        seen.add(event.id);
      });
    }),
});

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
    '/:id',
    route({ params: z.strictObject({ id: eventIdSchema }), query: eventDeliveriesQuerySchema }, async ({ params, query }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      const event = await models.Event.findById(eventKey(tenantId, params.id)).lean<EventDoc>();
      if (!event) throw notFound('event');
      const page = await listDeliveries(models, { tenantId, eventId: params.id }, query.limit, cursorPosition(query.cursor));
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
      const accepted = await ingestion.accept(res.locals.tenantId as string, body, key).catch((err: unknown) => Promise.reject(conflict(err)));
      res.status(202).json(accepted);
    }),
  );

  router.post(
    '/batch',
    route({ body: eventBatchSchema }, async ({ body }, req, res) => {
      const key = idempotencyKey(batchHeaders, req);
      const events = await ingestion.acceptBatch(res.locals.tenantId as string, body.events, key).catch((err: unknown) => Promise.reject(conflict(err)));
      res.status(202).json({ events });
    }),
  );

  return router;
}
