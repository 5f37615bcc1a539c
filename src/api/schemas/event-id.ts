import { z } from 'zod';

/**
 * Event ids (given `id` or `Idempotency-Key`) become part of workflow ids: keep them plain. `batch`
 * is not one: `/v1/events/batch` is its own route, so an event of that id could never be read.
 */
export const eventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'expected 1-128 characters of letters, digits, _ . : -')
  .refine((id) => id !== 'batch', 'batch cannot be an event id')
  .meta({ not: { const: 'batch' } });
