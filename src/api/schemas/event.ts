import { z } from 'zod';

export const eventAcceptedResponseSchema = z.strictObject({
  id: z.string(),
  status: z.literal('accepted'),
  duplicate: z.boolean().meta({ description: 'True when this id was accepted before: nothing new was fanned out.' }),
});

export const eventBatchAcceptedResponseSchema = z.strictObject({
  events: z.array(eventAcceptedResponseSchema).meta({ description: 'One per event, in the order sent.' }),
});
