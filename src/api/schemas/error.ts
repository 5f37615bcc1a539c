import { z } from 'zod';

/** The one error shape of every non-2xx answer. */
export const errorResponseSchema = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: 'Stable, machine-readable: validation_failed, unauthorized, not_found, rate_limited, ...' }),
    message: z.string(),
    details: z.array(z.strictObject({ path: z.string(), message: z.string() })).meta({ description: 'One entry per invalid field.' }),
  }),
});
