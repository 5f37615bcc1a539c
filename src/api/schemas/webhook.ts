import { z } from 'zod';
import { eventTypePatternSchema } from '../../events/event-type';
import { retryScheduleSchema } from '../../delivery/retry-schedule';

/** RFC 7230 token. */
const headerName = z.string().min(1).max(256).regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an RFC 7230 header name');
const headerValue = z.string().max(4096).regex(/^[^\r\n\0]*$/, 'header values cannot contain CR, LF or NUL');
const RESERVED_HEADER = /^(content-type|content-length|host|user-agent|transfer-encoding|connection|webhook-.*|x-webhook-.*)$/i;

export const customHeadersSchema = z
  .record(headerName, headerValue)
  .refine((h) => Object.keys(h).length <= 20, 'at most 20 custom headers')
  .superRefine((headers, ctx) => {
    for (const name of Object.keys(headers)) {
      if (RESERVED_HEADER.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is reserved and cannot be set` });
    }
  });

export const metadataSchema = z
  .record(z.string().min(1).max(128), z.string().max(1024))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata entries');

export const webhookInputSchema = z.strictObject({
  url: z.string().min(1).max(2048),
  events: z.array(eventTypePatternSchema).min(1).max(100),
  description: z.string().max(1000).nullable().optional(),
  active: z.boolean().optional(),
  headers: customHeadersSchema.optional(),
  retrySchedule: retryScheduleSchema.nullable().optional(),
  timeoutSeconds: z.number().int().min(1).max(30).optional(),
  metadata: metadataSchema.optional(),
});
export type WebhookInput = z.infer<typeof webhookInputSchema>;

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  active: z.boolean(),
  headers: z.record(z.string(), z.string()),
  retrySchedule: z.array(z.string()).nullable(),
  timeoutSeconds: z.number(),
  metadata: z.record(z.string(), z.string()),
  deliverySuccessCount: z.number(),
  deliveryFailureCount: z.number(),
  lastTriggeredAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookView = z.infer<typeof webhookSchema>;
