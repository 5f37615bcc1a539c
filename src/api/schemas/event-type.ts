import { z } from 'zod';

/** No options: unknown query parameters are refused like unknown fields. */
export const eventTypeListQuerySchema = z.strictObject({});

export const eventTypeListResponseSchema = z.strictObject({
  eventTypes: z.array(
    z.strictObject({
      name: z.string(),
      description: z.string().nullable().meta({ description: 'Set for built-in types; null for a type only this tenant has sent.' }),
      builtIn: z.boolean(),
      example: z
        .record(z.string(), z.unknown())
        .nullable()
        .meta({ description: 'What a receiver gets for this type (illustrative data) for built-in types; null otherwise.' }),
    }),
  ),
});
export type EventTypeList = z.infer<typeof eventTypeListResponseSchema>;
