/** Shapes of `GET /v1/webhooks/{id}/stats`: the deliveries chart of the portal, also public API. */
import { z } from 'zod';

export const webhookStatsQuerySchema = z.strictObject({
  hours: z.coerce.number().int().min(1).max(168).default(72).meta({ description: 'How many hours back, ending with the current one.' }),
});

export const webhookStatsResponseSchema = z.strictObject({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  hours: z
    .array(
      z.strictObject({
        start: z.iso.datetime(),
        delivered: z.number().int(),
        failed: z.number().int(),
        canceled: z.number().int(),
        inProgress: z.number().int().meta({ description: 'Pending or retrying.' }),
      }),
    )
    .meta({ description: 'Deliveries started in each hour, oldest first, by how they ended.' }),
  attempts: z
    .array(
      z.strictObject({
        deliveryId: z.string(),
        attempt: z.number().int(),
        startedAt: z.string(),
        durationMs: z.number(),
        statusCode: z.number().int().nullable(),
        error: z.string().nullable(),
      }),
    )
    .meta({ description: 'Every finished attempt of the most recent 25 deliveries in the window, oldest first.' }),
});
