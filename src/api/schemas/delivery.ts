import { z } from 'zod';
import { eventTypeSchema } from '../../events/event-type';
import { eventIdSchema } from './event-id';
import { cursorSchema } from '../list-cursor';
import { timeWindowFields, untilAfterSince } from './time-window';

export const deliveryStatusSchema = z.enum(['pending', 'retrying', 'delivered', 'failed', 'canceled']);

export const deliveryIdParamsSchema = z.strictObject({
  id: z.string().regex(/^dlv_[A-Za-z0-9_-]{1,64}$/, 'expected a delivery id (dlv_…)'),
});

export const deliverySummarySchema = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  webhookId: z.string(),
  status: deliveryStatusSchema,
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});

/** What every deliveries list filters and pages on. */
const deliveryListFields = {
  status: deliveryStatusSchema.optional(),
  eventType: eventTypeSchema.optional().meta({ description: 'Deliveries of events of exactly this type.' }),
  ...timeWindowFields('Deliveries started'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
};

/** `GET /v1/webhooks/{id}/deliveries`: one webhook's deliveries. */
export const webhookDeliveriesQuerySchema = z.strictObject(deliveryListFields).refine(...untilAfterSince);

/** `GET /v1/deliveries`: the tenant's delivery log. */
export const deliveryLogQuerySchema = z
  .strictObject({
    ...deliveryListFields,
    webhookId: z.string().min(1).max(64).optional().meta({ description: 'Deliveries to this webhook only.' }),
    eventId: eventIdSchema.optional().meta({ description: "This event's deliveries only (as `GET /v1/events/{id}` lists them, without their attempts)." }),
  })
  .refine(...untilAfterSince);

export const deliveryListResponseSchema = z.strictObject({
  deliveries: z.array(deliverySummarySchema).meta({ description: 'Newest first; a page may hold fewer than `limit`.' }),
  nextCursor: z.string().nullable(),
});

export const deliveryActionResponseSchema = z.strictObject({ id: z.string(), status: deliveryStatusSchema });

export const statsResponseSchema = z.strictObject({
  webhooks: z.strictObject({ active: z.number(), total: z.number() }),
  deliveries24h: z.strictObject({
    total: z.number(),
    successful: z.number(),
    failed: z.number(),
    avgDurationMs: z.number().nullable().meta({ description: 'Mean duration of the delivered attempt, over the most recent delivered deliveries.' }),
  }),
});

export const attemptSchema = z.strictObject({
  attempt: z.number(),
  startedAt: z.string(),
  durationMs: z.number().nullable().meta({ description: 'Null while in flight, or when the worker stopped mid-request.' }),
  statusCode: z.number().nullable(),
  errorClass: z.string().nullable(),
  error: z.string().nullable(),
  response: z.string().nullable().meta({ description: 'First 1000 characters of the response body.' }),
  transformation: z
    .string()
    .optional()
    .meta({ description: "The version of the webhook's transformation that made this attempt's request (its `transformation.version`); absent when none ran. An attempt whose transformation failed has errorClass `transformation_failed` and made no request." }),
});

export const deliveryDetailSchema = deliverySummarySchema.extend({
  attempts: z.array(attemptSchema),
  nextAttemptAt: z.string().nullable(),
  reason: z.string().nullable(),
  auditLog: z
    .array(z.strictObject({ workflowId: z.string(), runId: z.string() }))
    .meta({ description: 'The Temporal executions whose histories hold its attempts: the event fan-out (inline first attempt), then each DeliveryWorkflow run.' }),
});

export const deliveryResponseSchema = z.strictObject({ delivery: deliveryDetailSchema });

export const eventDeliveriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});

/** An event as receivers get it (`timestamp` is when it was accepted). */
export const eventEnvelopeSchema = z.strictObject({
  id: z.string(),
  type: z.string(),
  timestamp: z.string(),
  tenant_id: z.string(),
  data: z.unknown(),
  metadata: z.record(z.string(), z.string()),
});

export const eventResponseSchema = z.strictObject({
  event: eventEnvelopeSchema,
  deliveries: z.array(deliveryDetailSchema).meta({ description: 'This page of its deliveries, newest first, each with its attempts.' }),
  nextCursor: z.string().nullable(),
});
