import { z } from 'zod';

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });
export const readinessResponseSchema = z.strictObject({
  status: z.enum(['ready', 'unavailable']),
  temporal: z.boolean(),
  mongodb: z.boolean(),
});
