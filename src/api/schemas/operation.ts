import { z } from 'zod';
import { eventTypeSchema } from '../../events/event-type';

export const requeueInputSchema = z.strictObject({
  tenantId: z.string().min(1).max(64).optional(),
  webhookId: z.string().min(1).max(64).optional(),
  eventType: eventTypeSchema.optional(),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'Deliveries started at or after this time.' }),
  until: z.iso.datetime({ offset: true }).optional().meta({ description: 'Deliveries started before this time.' }),
  limit: z.number().int().min(1).max(100_000).default(1000).meta({ description: 'Most deliveries to requeue.' }),
  dryRun: z.boolean().default(false).meta({ description: 'Count what would be requeued; requeue nothing.' }),
  ratePerSecond: z.number().int().min(1).max(500).default(10).meta({ description: 'Deliveries started again per second.' }),
});

export const operationAcceptedSchema = z.strictObject({ operationId: z.string() });

export const operationParamsSchema = z.strictObject({
  id: z.string().regex(/^op_[A-Za-z0-9_-]{1,64}$/, 'expected an operation id (op_…)'),
});

export const operationResponseSchema = z.strictObject({
  operation: z.strictObject({
    id: z.string(),
    type: z.literal('requeue'),
    status: z.enum(['running', 'completed', 'failed']),
    filter: z.record(z.string(), z.string()),
    limit: z.number(),
    dryRun: z.boolean(),
    progress: z
      .strictObject({ matched: z.number(), requeued: z.number(), skipped: z.number(), errors: z.number() })
      .nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  }),
});
