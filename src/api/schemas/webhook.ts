import { z } from 'zod';
import { eventTypePatternSchema } from '../../events/event-type';
import { retryScheduleSchema } from '../../delivery/retry-schedule';
import { eventFilterSchema } from '../../delivery/event-filter';
import { RATE_LIMIT_MAX_PER_SECOND } from '../../delivery/rate-limit';
import { customHeadersPatchSchema, customHeadersSchema } from './custom-headers';
import { storedText } from './stored-text';
import { cursorSchema } from '../list-cursor';
import { TRANSFORMATION_CODE_MAX_BYTES } from '../../transformations/transformation';

export const transformationCodeSchema = z
  .string()
  .min(1)
  .refine((code) => Buffer.byteLength(code) <= TRANSFORMATION_CODE_MAX_BYTES, `at most ${TRANSFORMATION_CODE_MAX_BYTES} bytes of code`);

/** A webhook's transformation as given: its code (checked to compile before it is saved) and whether it runs. */
const transformationInputSchema = z
  .strictObject({
    code: transformationCodeSchema.meta({ description: `JavaScript defining \`function handler(webhook)\` (at most ${TRANSFORMATION_CODE_MAX_BYTES} bytes); checked to compile on save (a syntax error: 400 with its line).` }),
    enabled: z.boolean().default(true).meta({ description: 'Whether it runs on each attempt. @default true' }),
  })
  .meta({
    description:
      "Reshapes each attempt's request: `handler(webhook)` gets `{eventType, eventId, url, method, headers, payload}` and returns it changed (`payload`, `url`, `method` POST or PUT, extra `headers`) or with `cancel: true` (no request; the delivery ends canceled). It runs in a sandbox (QuickJS in WebAssembly: no require, network, timers, file system or environment) with 16 MiB of memory and 50 ms per call. Code that throws, returns a wrong shape or passes a limit fails the attempt (`transformation_failed: ...`), not retried on the schedule: requeue after a fix. null: none.",
  });
import { WEBHOOK_FORMATS } from '../../connectors/render';

const FORMAT_DESCRIPTION =
  'What each request\'s body is: `standard` (the default), the event envelope; `slack`, `discord` or `teams`, a message that service\'s incoming webhook accepts, rendering any event (type, time, id, its data as a code block, truncated to the service\'s limits). Requests are signed the same way whatever the format. A chat service\'s documented answers are classified as it documents them: one saying the webhook URL is dead (Slack `no_service`, `channel_not_found`, `channel_is_archived`...; Discord 404 Unknown Webhook) disables the webhook, its `disabledReason` naming the answer.';

export const metadataSchema = z
  .record(storedText().min(1).max(128), storedText().max(1024))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata entries')
  .meta({ description: 'Free-form string pairs for your own use; never sent to the receiver.', maxProperties: 50 });

const timestamp = z.iso.datetime();
const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{43}=$/)
  .meta({ description: 'Signing secret: `whsec_` + base64 of 32 random bytes. Shown only on create and rotation.' });

/** `POST /v1/webhooks` and `PUT /v1/webhooks/{id}`: omitted optional fields take their defaults. */
export const webhookInputSchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(2048)
    .meta({
      description: 'https URL the events are POSTed to (http only where WEBHOOK_ALLOW_HTTP is set); its host must not resolve to a private, loopback or link-local address (SSRF guard).',
      format: 'uri',
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
    }),
  events: z
    .array(eventTypePatternSchema)
    .min(1)
    .max(100)
    .meta({ description: 'Event types subscribed to: exact (`invoice.created`), prefix wildcard (`invoice.*`) or `*`.' }),
  description: storedText().max(1000).nullable().optional(),
  active: z.boolean().optional().meta({ description: 'Inactive webhooks get no deliveries; retrying ones stop. @default true' }),
  headers: customHeadersSchema.optional(),
  retrySchedule: retryScheduleSchema
    .nullable()
    .optional()
    .meta({ description: 'Delays between attempts, 1 to 20 of them, each between 1s and 24h, e.g. ["1m", "5m", "1h"]; each is jittered ±20 % per delivery. null uses the default schedule.' }),
  timeoutSeconds: z.number().int().min(1).max(30).optional().meta({ description: 'Per-attempt timeout. @default 10' }),
  metadata: metadataSchema.optional(),
  filter: eventFilterSchema.nullable().optional().meta({ description: 'The payload filter; null (the default): every event of the subscribed types.' }),
  rateLimitPerSecond: z
    .number()
    .gt(0)
    .max(RATE_LIMIT_MAX_PER_SECOND)
    .nullable()
    .optional()
    .meta({
      description: `Most requests per second sent to this webhook, across all workers (e.g. 0.5, 5, 100; at most ${RATE_LIMIT_MAX_PER_SECOND}): deliveries over it wait for their turn, never dropped and never counted as attempts. null (the default): no limit.`,
    }),
  ordering: z
    .enum(['unordered', 'fifo'])
    .optional()
    .meta({
      description:
        '`fifo`: deliveries are sent one at a time, in the order the API accepted their events; the next waits until the previous one is delivered or has finally failed (each keeps its own attempts and retries). A retried, requeued or resent delivery goes to the end of the line. `unordered` (the default): deliveries are sent as soon as they can be, in parallel. @default unordered',
    }),
  transformation: transformationInputSchema.nullable().optional(),
  format: z
    .enum(WEBHOOK_FORMATS)
    .optional()
    .meta({ description: `${FORMAT_DESCRIPTION} On PUT, leaving it out sets it back to standard. @default standard` }),
  legacySignature: z
    .boolean()
    .optional()
    .meta({
      description:
        'Also send the legacy `X-Webhook-Signature` (hex HMAC of the body alone: no timestamp, so a captured request can be replayed). Opt-in: false for new webhooks; webhooks created before this field keep getting it until set to false. On PUT, leaving it out keeps the current value. @default false',
    }),
});
export type WebhookInput = z.infer<typeof webhookInputSchema>;

/**
 * `PATCH /v1/webhooks/{id}`: only the fields given change; `headers` and `metadata` are replaced
 * whole, a header given as null keeping its stored value.
 */
export const webhookPatchSchema = webhookInputSchema
  .extend({ headers: customHeadersPatchSchema.optional() })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change')
  .meta({ minProperties: 1 });
export type WebhookPatch = z.infer<typeof webhookPatchSchema>;

export const webhookListQuerySchema = z.strictObject({
  active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  event: eventTypePatternSchema
    .optional()
    .meta({ description: 'An event type: webhooks that would receive it. A wildcard: webhooks subscribed with exactly that pattern.' }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});

export const webhookIdParamsSchema = z.strictObject({ id: z.string().min(1).max(64) });

/** The public shape of a webhook: never a secret, never the value of a sensitive header. */
export const webhookSchema = z.strictObject({
  id: z.string().regex(/^wh_/),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  active: z.boolean(),
  headers: z.record(z.string(), z.string()).meta({ description: 'Custom headers with their values, sensitive ones left out.' }),
  sensitiveHeaders: z.array(z.string()).meta({ description: 'Names of custom headers that are set but whose values are never shown.' }),
  retrySchedule: z.array(z.string()).nullable(),
  timeoutSeconds: z.number().int(),
  metadata: z.record(z.string(), z.string()),
  filter: z
    .record(z.string(), z.unknown())
    .nullable()
    .meta({ description: 'The payload filter: only events it matches are delivered (see POST /v1/webhooks/{id}/filter-test); null: every event of the subscribed types.' }),
  rateLimitPerSecond: z.number().nullable().meta({ description: 'Most requests per second sent to this webhook; deliveries over it wait. null: no limit.' }),
  ordering: z.enum(['unordered', 'fifo']).meta({ description: '`fifo`: one delivery at a time, in acceptance order; `unordered`: in parallel, in no particular order.' }),
  transformation: z
    .strictObject({
      code: z.string(),
      enabled: z.boolean(),
      version: z.string().meta({ description: 'The code\'s version (16 hex digits of its SHA-256), as each attempt it made records it (`transformation`).' }),
    })
    .nullable()
    .meta({ description: "The transformation of each attempt's request (see POST /v1/webhooks/{id}/transformation-test); null: none." }),
  format: z.enum(WEBHOOK_FORMATS).meta({ description: FORMAT_DESCRIPTION }),
  legacySignature: z.boolean().meta({ description: 'Whether attempts also carry the legacy, replayable `X-Webhook-Signature`.' }),
  circuit: z
    .strictObject({
      state: z.enum(['closed', 'open', 'half-open']),
      since: timestamp.nullable().meta({ description: 'When it opened (open, half-open) or closed; closed since creation when it never opened.' }),
      nextProbeAt: timestamp.nullable().meta({ description: 'Open: when one delivery probes the receiver. Otherwise null.' }),
    })
    .meta({
      description:
        "The webhook's circuit breaker (read-only): open after the receiver kept failing; while open no request is made and deliveries wait without spending attempts, until a probe is answered 2xx.",
    }),
  deliverySuccessCount: z.number().int(),
  deliveryFailureCount: z.number().int(),
  lastTriggeredAt: timestamp.nullable(),
  disabledReason: z
    .string()
    .nullable()
    .meta({ description: 'Why the service deactivated the webhook (e.g. the receiver answered 410, or `Slack answered 404 no_service` for a chat format).' }),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type WebhookView = z.infer<typeof webhookSchema>;

export const webhookResponseSchema = z.strictObject({ webhook: webhookSchema });
export const webhookCreatedResponseSchema = z.strictObject({ webhook: webhookSchema.extend({ secret: webhookSecret }) });
export const webhookListResponseSchema = z.strictObject({
  webhooks: z.array(webhookSchema),
  count: z.number().int().meta({ description: 'Webhooks matching the filters, on all pages.' }),
  nextCursor: z.string().nullable(),
});

export const secretRotationResponseSchema = z.strictObject({
  secret: webhookSecret,
  previousSecretExpiresAt: timestamp.nullable().meta({ description: 'Until then deliveries are signed with both secrets.' }),
});

export const webhookTestResponseSchema = z.strictObject({
  success: z.boolean(),
  statusCode: z.number().int().nullable(),
  durationMs: z.number().int().min(0),
  response: z.string().max(1000).nullable().meta({ description: 'First 1000 characters of the response body.' }),
  error: z.string().nullable().meta({ description: 'Timeout, network error or refused URL, when there was no response; for a chat format, what its service\'s documented error answer means (e.g. `Slack answered 404 no_service`).' }),
});

export const filterTestResponseSchema = z.strictObject({
  matches: z.boolean().meta({ description: 'Whether the webhook would get this event: its type is one the webhook subscribes to, and the event passes its filter (if any).' }),
});

export const transformationTestResponseSchema = z.strictObject({
  outcome: z.enum(['send', 'cancel', 'failed']).meta({ description: '`send`: `request` is what would be sent; `cancel`: nothing would be (the delivery ends canceled); `failed`: the attempt would fail with `error`, no request.' }),
  request: z
    .strictObject({
      method: z.enum(['POST', 'PUT']),
      url: z.string(),
      headers: z.record(z.string(), z.string()).meta({ description: 'As sent, signature included; values of sensitive custom headers are shown as `[sensitive]`.' }),
      body: z.string().meta({ description: 'The body as sent and signed.' }),
    })
    .nullable(),
  error: z.string().nullable().meta({ description: '`transformation_failed: <message>` when the code threw, returned a wrong shape or passed a limit.' }),
  transformation: z.string().nullable().meta({ description: 'The version of the code that ran; null when the webhook has none and none was given.' }),
});

/** No body, or an empty object: rotate-secret and test take no options. */
export const emptyBodySchema = z.strictObject({}).optional();
