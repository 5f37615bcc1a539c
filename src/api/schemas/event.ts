import { z } from 'zod';

export const eventAcceptedResponseSchema = z.strictObject({
  id: z.string(),
  status: z.literal('accepted'),
  duplicate: z.boolean().meta({ description: 'True when this id was accepted before: nothing new was fanned out.' }),
});
