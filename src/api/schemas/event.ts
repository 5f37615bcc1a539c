import { z } from 'zod';
import { eventTypeSchema } from '../../events/event-type';
import { cursorSchema } from '../list-cursor';
import { eventEnvelopeSchema } from './delivery';
import { timeWindowFields, untilAfterSince } from './time-window';

export const eventAcceptedResponseSchema = z.strictObject({
  id: z.string(),
  status: z.literal('accepted'),
  duplicate: z.boolean().meta({ description: 'True when this id was accepted before: nothing new was fanned out.' }),
});

export const eventBatchAcceptedResponseSchema = z.strictObject({
  events: z.array(eventAcceptedResponseSchema).meta({ description: 'One per event, in the order sent.' }),
});

/** `GET /v1/events`: the tenant's events. */
export const eventListQuerySchema = z
  .strictObject({
    type: eventTypeSchema.optional().meta({ description: 'Events of exactly this type.' }),
    ...timeWindowFields('Events accepted'),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: cursorSchema.optional(),
  })
  .refine(...untilAfterSince);

const count = z.number().int().min(0);

export const eventListResponseSchema = z.strictObject({
  events: z
    .array(
      eventEnvelopeSchema.extend({
        deliveries: z
          .strictObject({ total: count, pending: count, retrying: count, delivered: count, failed: count, canceled: count })
          .meta({ description: "How many of the event's deliveries are in each status now, and in all (0 while its fan-out has not reached them)." }),
      }),
    )
    .meta({ description: 'Newest first (acceptance time, then id); a page may hold fewer than `limit`.' }),
  nextCursor: z.string().nullable(),
});
