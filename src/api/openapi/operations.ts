import { z } from 'zod';
import { eventBatchSchema, eventIdSchema, newEventSchema } from '../routes/events';
import { transformationTestInputSchema } from '../routes/webhooks';
import {
  apiKeyIssuedResponseSchema,
  apiKeyListResponseSchema,
  apiKeyParamsSchema,
  tenantCreatedResponseSchema,
  tenantInputSchema,
  tenantListQuerySchema,
  tenantListResponseSchema,
  tenantParamsSchema,
  tenantResponseSchema,
} from '../schemas/admin';
import {
  deliveryActionResponseSchema,
  deliveryIdParamsSchema,
  deliveryListResponseSchema,
  deliveryLogQuerySchema,
  deliveryResponseSchema,
  eventDeliveriesQuerySchema,
  eventResponseSchema,
  statsResponseSchema,
  webhookDeliveriesQuerySchema,
} from '../schemas/delivery';
import { eventAcceptedResponseSchema, eventBatchAcceptedResponseSchema, eventListQuerySchema, eventListResponseSchema } from '../schemas/event';
import { operationAcceptedSchema, operationParamsSchema, operationResponseSchema, recoverInputSchema, requeueInputSchema } from '../schemas/operation';
import { eventTypeListQuerySchema, eventTypeListResponseSchema } from '../schemas/event-type';
import { healthResponseSchema, readinessResponseSchema } from '../schemas/service';
import { portalSessionCreatedResponseSchema, portalSessionInputSchema } from '../schemas/portal-session';
import {
  ingestAcceptedResponseSchema,
  ingestParamsSchema,
  ingestUrlRotationResponseSchema,
  sourceCreatedResponseSchema,
  sourceIdParamsSchema,
  sourceInputSchema,
  sourceListQuerySchema,
  sourceListResponseSchema,
  sourcePatchSchema,
  sourceResponseSchema,
} from '../schemas/source';
import { webhookStatsQuerySchema, webhookStatsResponseSchema } from '../schemas/webhook-stats';
import {
  emptyBodySchema,
  filterTestResponseSchema,
  transformationTestResponseSchema,
  secretRotationResponseSchema,
  webhookCreatedResponseSchema,
  webhookIdParamsSchema,
  webhookInputSchema,
  webhookListQuerySchema,
  webhookListResponseSchema,
  webhookPatchSchema,
  webhookResponseSchema,
  webhookTestResponseSchema,
} from '../schemas/webhook';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface OperationResponse {
  description: string;
  /** JSON body; absent for empty answers (204). */
  schema?: z.ZodType;
  /** Non-JSON answers (the /docs page). */
  contentType?: string;
}

/** One route of the app as the OpenAPI document describes it, with the zod schemas it validates with. */
export interface Operation {
  method: HttpMethod;
  /** OpenAPI form: `/v1/webhooks/{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call it: a tenant API key, the admin token, the metrics (or admin) token, a provider's signature on an ingest URL, anyone. */
  auth: 'tenant' | 'admin' | 'metrics' | 'signature' | 'none';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  headers?: { name: string; schema: z.ZodType; description: string }[];
  responses: Record<number, OperationResponse>;
  /** When the operation answers 409, and why. */
  conflict?: string;
}

const noContent = { 204: { description: 'Done; no body.' } };

/**
 * Every route of the app. The schemas are the very objects the routes validate with; a test walks
 * the Express app and fails when a route is missing here (or listed here but not served).
 */
export const OPERATIONS: Operation[] = [
  // Service
  { method: 'get', path: '/healthz', summary: 'The process is up', tag: 'service', auth: 'none', responses: { 200: { description: 'Up.', schema: healthResponseSchema } } },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Temporal and MongoDB are reachable',
    tag: 'service',
    auth: 'none',
    responses: { 200: { description: 'Ready.', schema: readinessResponseSchema }, 503: { description: 'A backing service is unreachable.', schema: readinessResponseSchema } },
  },
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'service', auth: 'none', responses: { 200: { description: 'OpenAPI 3.1 document.', schema: z.record(z.string(), z.unknown()) } } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics of this API process (METRICS_TOKEN or the admin token)', tag: 'service', auth: 'metrics', responses: { 200: { description: 'Prometheus text format.', contentType: 'text/plain' } } },
  { method: 'get', path: '/docs', summary: 'Browsable API reference (served locally)', tag: 'service', auth: 'none', responses: { 200: { description: 'HTML page.', contentType: 'text/html' } } },

  // Admin
  {
    method: 'post',
    path: '/v1/admin/tenants',
    summary: 'Create a tenant and its first API key (shown once)',
    tag: 'admin',
    auth: 'admin',
    body: tenantInputSchema,
    responses: { 201: { description: 'Created.', schema: tenantCreatedResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/admin/tenants',
    summary: 'List live tenants, newest first; `name` finds those whose name starts with it, ignoring case',
    tag: 'admin',
    auth: 'admin',
    query: tenantListQuerySchema,
    responses: { 200: { description: 'A page of tenants.', schema: tenantListResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/admin/tenants/{tenantId}',
    summary: 'Read a tenant (a deleted one is 404)',
    tag: 'admin',
    auth: 'admin',
    params: tenantParamsSchema,
    responses: { 200: { description: 'The tenant.', schema: tenantResponseSchema } },
  },
  {
    method: 'patch',
    path: '/v1/admin/tenants/{tenantId}',
    summary: 'Rename a tenant (a deleted one is 404)',
    tag: 'admin',
    auth: 'admin',
    params: tenantParamsSchema,
    body: tenantInputSchema,
    responses: { 200: { description: 'The renamed tenant.', schema: tenantResponseSchema } },
  },
  {
    method: 'delete',
    path: '/v1/admin/tenants/{tenantId}',
    summary:
      'Delete a tenant: its API keys, portal links and sessions stop working at once (on the other API processes within API_KEY_CACHE_SECONDS), its sources\' ingest URLs answer 404, ' +
      'its webhooks are deleted so nothing more is sent, and its retrying deliveries end canceled within seconds (a durable TenantDeletionWorkflow); ' +
      'its events and deliveries stay until the retention sweep (RETENTION_DAYS) deletes them at their usual time, and the tenant\'s record RETENTION_DAYS after its deletion. ' +
      'A deleted tenant is 404 on every other admin route and absent from the list; DELETE again is 204 and runs the cleanup again',
    tag: 'admin',
    auth: 'admin',
    params: tenantParamsSchema,
    responses: noContent,
  },
  {
    method: 'post',
    path: '/v1/admin/tenants/{tenantId}/api-keys',
    summary: 'Issue another API key for a tenant (shown once)',
    tag: 'admin',
    auth: 'admin',
    params: tenantParamsSchema,
    responses: { 201: { description: 'Issued.', schema: apiKeyIssuedResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/admin/tenants/{tenantId}/api-keys',
    summary: 'List a tenant\'s API keys (ids and prefixes, never the keys)',
    tag: 'admin',
    auth: 'admin',
    params: tenantParamsSchema,
    responses: { 200: { description: 'The keys, oldest first.', schema: apiKeyListResponseSchema } },
  },
  {
    method: 'delete',
    path: '/v1/admin/tenants/{tenantId}/api-keys/{keyId}',
    summary: 'Revoke an API key: it stops working at once on this API process, within API_KEY_CACHE_SECONDS (10 s) on the others',
    tag: 'admin',
    auth: 'admin',
    params: apiKeyParamsSchema,
    responses: noContent,
  },
  {
    method: 'post',
    path: '/v1/admin/requeue',
    summary: 'Requeue failed deliveries in bulk, as a durable and rate-limited operation',
    tag: 'admin',
    auth: 'admin',
    body: requeueInputSchema,
    responses: { 202: { description: 'Started; follow it at /v1/admin/operations/{id}.', schema: operationAcceptedSchema } },
  },
  {
    method: 'get',
    path: '/v1/admin/operations/{id}',
    summary: 'Progress and counts of a bulk operation',
    tag: 'admin',
    auth: 'admin',
    params: operationParamsSchema,
    responses: { 200: { description: 'The operation.', schema: operationResponseSchema } },
  },

  // Webhooks
  {
    method: 'post',
    path: '/v1/webhooks',
    summary: 'Create a webhook; the answer carries its signing secret, shown only here',
    tag: 'webhooks',
    auth: 'tenant',
    body: webhookInputSchema,
    responses: { 201: { description: 'Created.', schema: webhookCreatedResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/webhooks',
    summary: 'List webhooks, newest first',
    tag: 'webhooks',
    auth: 'tenant',
    query: webhookListQuerySchema,
    responses: { 200: { description: 'One page.', schema: webhookListResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}',
    summary: 'Get a webhook',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    responses: { 200: { description: 'The webhook.', schema: webhookResponseSchema } },
  },
  {
    method: 'patch',
    path: '/v1/webhooks/{id}',
    summary: 'Change some fields of a webhook',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: webhookPatchSchema,
    responses: { 200: { description: 'The changed webhook.', schema: webhookResponseSchema } },
    conflict: 'A header given as null (keep its stored value) that this webhook does not have.',
  },
  {
    method: 'put',
    path: '/v1/webhooks/{id}',
    summary: 'Replace a webhook\'s settings; omitted optional fields go back to their defaults',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: webhookInputSchema,
    responses: { 200: { description: 'The replaced webhook.', schema: webhookResponseSchema } },
  },
  {
    method: 'delete',
    path: '/v1/webhooks/{id}',
    summary: 'Delete a webhook; its deliveries still retrying end canceled at their next attempt',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    responses: noContent,
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/rotate-secret',
    summary: 'Rotate the signing secret; the previous one keeps signing during the overlap',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: emptyBodySchema,
    responses: { 200: { description: 'The new secret, shown only here.', schema: secretRotationResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/test',
    summary: 'Send one signed webhook.test event now and report what the receiver answered',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: emptyBodySchema,
    responses: { 200: { description: 'The attempt\'s outcome (200 even when the receiver failed).', schema: webhookTestResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/filter-test',
    summary: 'Whether the webhook would get an event (the body of POST /v1/events): its type subscribed to and its payload filter passed; nothing is stored or sent',
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: newEventSchema,
    responses: { 200: { description: 'Whether it matches.', schema: filterTestResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/transformation-test',
    summary: "What the webhook's transformation (or `code` not yet saved) makes of an event's request: what would be sent (signed), that it cancels, or its error; nothing is stored or sent",
    tag: 'webhooks',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: transformationTestInputSchema,
    responses: { 200: { description: 'What would be sent, or why nothing would.', schema: transformationTestResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}/deliveries',
    summary: 'Deliveries to a webhook, newest first, from the deliveries index',
    tag: 'deliveries',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    query: webhookDeliveriesQuerySchema,
    responses: { 200: { description: 'One page.', schema: deliveryListResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}/stats',
    summary: 'Deliveries to a webhook per hour by outcome, and the latency of recent attempts',
    tag: 'deliveries',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    query: webhookStatsQuerySchema,
    responses: { 200: { description: 'The window\'s counts and attempts.', schema: webhookStatsResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/webhooks/{id}/recover',
    summary: 'Requeue this webhook\'s failed deliveries of a time window, durably and rate-limited (a delivered one is never sent again)',
    tag: 'deliveries',
    auth: 'tenant',
    params: webhookIdParamsSchema,
    body: recoverInputSchema,
    responses: {
      202: { description: 'Started (or, with `alreadyRunning`, the recover of this webhook that is still running); follow it at /v1/operations/{id}.', schema: operationAcceptedSchema },
    },
  },
  {
    method: 'get',
    path: '/v1/operations/{id}',
    summary: 'Progress and counts of an operation this tenant started (a recover)',
    tag: 'deliveries',
    auth: 'tenant',
    params: operationParamsSchema,
    responses: { 200: { description: 'The operation.', schema: operationResponseSchema } },
  },

  // Deliveries
  {
    method: 'get',
    path: '/v1/deliveries',
    summary: "The tenant's delivery log: its deliveries newest first, by status, webhook, event type and time",
    tag: 'deliveries',
    auth: 'tenant',
    query: deliveryLogQuerySchema,
    responses: { 200: { description: 'One page (summaries; `GET /v1/deliveries/{id}` has the attempts).', schema: deliveryListResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/deliveries/{id}',
    summary: 'A delivery with every attempt, from its workflow history',
    tag: 'deliveries',
    auth: 'tenant',
    params: deliveryIdParamsSchema,
    responses: { 200: { description: 'The delivery.', schema: deliveryResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/deliveries/{id}/retry',
    summary: 'Deliver a failed or canceled delivery again (a delivered one: 409, never sent twice)',
    tag: 'deliveries',
    auth: 'tenant',
    params: deliveryIdParamsSchema,
    conflict: 'The delivery is not failed or canceled (a delivered one is never sent twice).',
    responses: { 202: { description: 'Started again.', schema: deliveryActionResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/deliveries/{id}/resend',
    summary: 'Send a delivered delivery again, on purpose: one new attempt with the same webhook-id, in its audit log',
    tag: 'deliveries',
    auth: 'tenant',
    params: deliveryIdParamsSchema,
    conflict: 'The delivery is not delivered (retry a failed or canceled one), or a retry or resend of it is running.',
    responses: { 202: { description: 'Resend started; the delivery stays delivered.', schema: deliveryActionResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/deliveries/{id}/cancel',
    summary: 'Stop a pending or retrying delivery',
    tag: 'deliveries',
    auth: 'tenant',
    params: deliveryIdParamsSchema,
    conflict: 'The delivery is not pending or retrying (it has ended: `delivery_not_running`), or it has no run of its own yet (`delivery_in_progress`: its first attempt is being made by its event\'s fan-out, or it waits in its FIFO line).',
    responses: { 202: { description: 'Canceled.', schema: deliveryActionResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/stats',
    summary: 'Webhook counts and the last 24 hours of deliveries',
    tag: 'deliveries',
    auth: 'tenant',
    responses: { 200: { description: 'Counts.', schema: statsResponseSchema } },
  },

  // Events
  {
    method: 'post',
    path: '/v1/events',
    summary: 'Accept an event for delivery to every matching active webhook',
    tag: 'events',
    auth: 'tenant',
    body: newEventSchema,
    headers: [{ name: 'Idempotency-Key', schema: eventIdSchema, description: 'Names the event when the body has no `id`; with an `id`, it must be the same (else 400).' }],
    conflict: 'The id or Idempotency-Key was used before with a different body.',
    responses: { 202: { description: 'Durably accepted.', schema: eventAcceptedResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/events',
    summary: "The tenant's events newest first, each with its deliveries' counts by status",
    tag: 'events',
    auth: 'tenant',
    query: eventListQuerySchema,
    responses: { 200: { description: 'One page.', schema: eventListResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/events/{id}',
    summary: 'An event and its deliveries, each with its attempts',
    tag: 'events',
    auth: 'tenant',
    params: z.strictObject({ id: eventIdSchema }),
    query: eventDeliveriesQuerySchema,
    responses: { 200: { description: 'The event and one page of its deliveries.', schema: eventResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/events/batch',
    summary: 'Accept up to 100 events at once (all or none on an id conflict; an id given twice with the same body is one event)',
    tag: 'events',
    auth: 'tenant',
    body: eventBatchSchema,
    headers: [{ name: 'Idempotency-Key', schema: eventIdSchema.max(124), description: 'Names events without an `id` as `<key>.<index>`.' }],
    conflict: 'An event id (or the Idempotency-Key) was used before with a different body; `details` names the event.',
    responses: { 202: { description: 'Durably accepted.', schema: eventBatchAcceptedResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/event-types',
    summary: 'The event type catalogue plus the types this tenant has sent',
    tag: 'event types',
    auth: 'tenant',
    query: eventTypeListQuerySchema,
    responses: { 200: { description: 'All types, by name.', schema: eventTypeListResponseSchema } },
  },

  // Inbound sources
  {
    method: 'post',
    path: '/v1/sources',
    summary: 'Create an inbound source (GitHub, Stripe, Shopify, Standard Webhooks or generic HMAC); the answer carries its ingest URL (a credential, also in every read of the source)',
    tag: 'sources',
    auth: 'tenant',
    body: sourceInputSchema,
    responses: { 201: { description: 'Created; paste `ingestUrl` and the secret into the provider.', schema: sourceCreatedResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/sources',
    summary: 'List inbound sources, newest first, with their ingest URLs (credentials); never a secret',
    tag: 'sources',
    auth: 'tenant',
    query: sourceListQuerySchema,
    responses: { 200: { description: 'One page.', schema: sourceListResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/sources/{id}',
    summary: 'Get an inbound source, with its ingest URL (a credential); never its secret',
    tag: 'sources',
    auth: 'tenant',
    params: sourceIdParamsSchema,
    responses: { 200: { description: 'The source. `ingestUrl` is null for a source created before ingest URLs were stored encrypted: rotate-url to get one that is shown.', schema: sourceResponseSchema } },
  },
  {
    method: 'patch',
    path: '/v1/sources/{id}',
    summary: 'Change a source\'s name, secret (e.g. the signing secret a provider shows once the endpoint exists) or hmac settings; its ingest URL stays',
    tag: 'sources',
    auth: 'tenant',
    params: sourceIdParamsSchema,
    body: sourcePatchSchema,
    responses: { 200: { description: 'The changed source, with its ingest URL (never its secret).', schema: sourceResponseSchema } },
  },
  {
    method: 'delete',
    path: '/v1/sources/{id}',
    summary: 'Delete an inbound source: its ingest URLs answer 404 at once; events it accepted stay',
    tag: 'sources',
    auth: 'tenant',
    params: sourceIdParamsSchema,
    responses: noContent,
  },
  {
    method: 'post',
    path: '/v1/sources/{id}/rotate-url',
    summary: 'Issue a new ingest URL; the previous one keeps working for 24 hours, an older one stops at once',
    tag: 'sources',
    auth: 'tenant',
    params: sourceIdParamsSchema,
    body: emptyBodySchema,
    responses: { 200: { description: 'The new ingest URL (shown in the source\'s reads from now on), the previous one and until when it works, and the source.', schema: ingestUrlRotationResponseSchema } },
  },
  {
    method: 'post',
    path: '/v1/ingest/{sourceId}/{token}',
    summary: 'A provider\'s signed request to a source\'s ingest URL (no API key): verified over the raw body, accepted as the event `<type>.<provider event>` with id `<source id>:<provider delivery id>`',
    tag: 'sources',
    auth: 'signature',
    params: ingestParamsSchema,
    body: z.unknown().meta({ description: 'The provider\'s JSON body, exactly as it signed it; it becomes the event\'s `data`.' }),
    headers: [
      { name: 'X-Hub-Signature-256', schema: z.string(), description: 'github: `sha256=<hex HMAC-SHA256 of the body>`; with X-GitHub-Event and X-GitHub-Delivery.' },
      { name: 'Stripe-Signature', schema: z.string(), description: 'stripe: `t=<unix seconds>,v1=<hex>`; refused over 5 minutes old.' },
      { name: 'X-Shopify-Hmac-Sha256', schema: z.string(), description: 'shopify: base64 HMAC-SHA256 of the body; with X-Shopify-Topic and X-Shopify-Webhook-Id.' },
      { name: 'webhook-signature', schema: z.string(), description: 'standard-webhooks: `v1,<base64>`, with webhook-id and webhook-timestamp (5-minute tolerance).' },
    ],
    conflict: 'The provider sent this delivery id before with a different body.',
    responses: { 202: { description: 'Durably accepted (or accepted before: `duplicate`, nothing fanned out again).', schema: ingestAcceptedResponseSchema } },
  },

  // Customer portal
  {
    method: 'post',
    path: '/v1/portal-sessions',
    summary: 'A short-lived, single-use link to the customer portal, scoped to this tenant',
    tag: 'portal',
    auth: 'tenant',
    body: portalSessionInputSchema,
    responses: { 201: { description: 'The link; open it in a browser (once).', schema: portalSessionCreatedResponseSchema } },
  },
];
