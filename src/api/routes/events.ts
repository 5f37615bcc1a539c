import { Router } from 'express';
import { z } from 'zod';
import { EventIngestion, IdempotencyConflictError } from '../../events/event-ingestion';
import { eventTypeSchema } from '../../events/event-type';
import { ApiError } from '../errors';
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

const headersSchema = z.object({ 'idempotency-key': eventIdSchema.optional() });

export function eventsRouter(ingestion: EventIngestion): Router {
  const router = Router();

  router.post(
    '/',
    route({ body: newEventSchema }, async ({ body }, req, res) => {
      const headers = headersSchema.safeParse(req.headers);
      if (!headers.success) {
        throw new ApiError(400, 'validation_failed', 'request is invalid', [
          { path: 'headers.idempotency-key', message: headers.error.issues[0].message },
        ]);
      }
      try {
        const accepted = await ingestion.accept(res.locals.tenantId as string, body, headers.data['idempotency-key']);
        res.status(202).json(accepted);
      } catch (err) {
        if (err instanceof IdempotencyConflictError) throw new ApiError(409, 'idempotency_conflict', err.message);
        throw err;
      }
    }),
  );

  return router;
}
