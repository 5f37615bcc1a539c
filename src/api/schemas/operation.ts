import { z } from 'zod';
import { eventTypeSchema } from '../../events/event-type';

/** Deliveries a requeue or recover starts again per second, unless an admin's requeue says otherwise. */
export const DEFAULT_REQUEUE_RATE_PER_SECOND = 10;

export const requeueInputSchema = z.strictObject({
  tenantId: z.string().min(1).max(64).optional(),
  webhookId: z.string().min(1).max(64).optional(),
  eventType: eventTypeSchema.optional(),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'Deliveries started at or after this time.' }),
  until: z.iso.datetime({ offset: true }).optional().meta({ description: 'Deliveries started before this time.' }),
  limit: z.number().int().min(1).max(100_000).default(1000).meta({ description: 'Most deliveries to requeue.' }),
  dryRun: z.boolean().default(false).meta({ description: 'Count what would be requeued; requeue nothing.' }),
  ratePerSecond: z.number().int().min(1).max(500).default(DEFAULT_REQUEUE_RATE_PER_SECOND).meta({ description: 'Deliveries started again per second.' }),
});

/** A recover's window: since is required and not in the future; until, when given, is after since. */
export const recoverInputSchema = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).meta({ description: 'Failed deliveries started at or after this time (ISO 8601, not in the future).' }),
    until: z.iso.datetime({ offset: true }).optional().meta({ description: 'Failed deliveries started before this time (after `since`). Default: the time of the request.' }),
  })
  .superRefine(({ since, until }, ctx) => {
    if (Date.parse(since) > Date.now()) ctx.addIssue({ code: 'custom', path: ['since'], message: 'must not be in the future' });
    if (until !== undefined && Date.parse(until) <= Date.parse(since)) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' });
  });

export const operationAcceptedSchema = z.strictObject({
  operationId: z.string(),
  alreadyRunning: z
    .boolean()
    .optional()
    .meta({ description: 'Recover only: true when a recover of this webhook was already running; `operationId` is that one\'s and nothing new started.' }),
});

export const operationParamsSchema = z.strictObject({
  id: z.string().regex(/^op_[A-Za-z0-9_-]{1,64}$/, 'expected an operation id (op_…)'),
});

export const operationResponseSchema = z.strictObject({
  operation: z.strictObject({
    id: z.string(),
    type: z.enum(['requeue', 'recover']).meta({ description: 'requeue: an admin\'s bulk requeue; recover: a tenant\'s recover of one webhook.' }),
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
