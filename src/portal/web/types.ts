/** The API's shapes as the portal reads them (see src/api/schemas: the same fields). */

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  headers: Record<string, string>;
  sensitiveHeaders: string[];
  retrySchedule: string[] | null;
  timeoutSeconds: number;
  /** The payload filter; null: every event of its types. */
  filter: Record<string, unknown> | null;
  /** Most requests per second to it; null: no limit. */
  rateLimitPerSecond: number | null;
  /** `fifo`: one delivery at a time, in acceptance order. */
  ordering: 'unordered' | 'fifo';
  legacySignature: boolean;
  /** What each request's body is: the event envelope (`standard`) or a chat service's message. */
  format: WebhookFormat;
  /** JavaScript reshaping each attempt's request; null: none. */
  transformation: { code: string; enabled: boolean; version: string } | null;
  /** Its circuit breaker: open while the receiver keeps failing (no requests, deliveries wait). */
  circuit: { state: 'closed' | 'open' | 'half-open'; since: string | null; nextProbeAt: string | null };
  deliverySuccessCount: number;
  deliveryFailureCount: number;
  lastTriggeredAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export const WEBHOOK_FORMATS = ['standard', 'slack', 'discord', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** `POST /webhooks/{id}/transformation-test`: what would be sent, or why not. */
export interface TransformationTest {
  outcome: 'send' | 'cancel' | 'failed';
  request: { method: string; url: string; headers: Record<string, string>; body: string } | null;
  error: string | null;
  transformation: string | null;
}

export const SOURCE_TYPES = ['github', 'stripe', 'shopify', 'standard-webhooks', 'hmac'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** An inbound source; the API never returns its secret. */
export interface Source {
  id: string;
  name: string;
  type: SourceType;
  hmac: { header: string; algorithm: string; encoding: string; prefix: string; eventType: string; eventTypeHeader: string | null; idHeader: string | null } | null;
  eventTypePrefix: string;
  /** Where the provider POSTs (a credential); null (or absent) for a source whose URL predates storing it: rotate to see it. */
  ingestUrl?: string | null;
  previousIngestUrl?: string | null;
  previousIngestUrlExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EventType {
  name: string;
  description: string | null;
  builtIn: boolean;
  example: Record<string, unknown> | null;
}

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'canceled';

export interface DeliverySummary {
  id: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  status: DeliveryStatus;
  createdAt: string;
  completedAt: string | null;
}

export interface Attempt {
  attempt: number;
  startedAt: string;
  durationMs: number | null;
  statusCode: number | null;
  errorClass: string | null;
  error: string | null;
  response: string | null;
}

export interface DeliveryDetail extends DeliverySummary {
  attempts: Attempt[];
  nextAttemptAt: string | null;
  reason: string | null;
}

export interface WebhookStats {
  from: string;
  to: string;
  hours: { start: string; delivered: number; failed: number; canceled: number; inProgress: number }[];
  attempts: { deliveryId: string; attempt: number; startedAt: string; durationMs: number; statusCode: number | null; error: string | null }[];
}

export interface SessionState {
  session: { tenantId: string; tenantName: string; readOnly: boolean; expiresAt: string };
  csrfToken: string;
  /** What the service accepts, so forms say so. */
  service: { allowHttpUrls: boolean };
}

export interface TestResult {
  success: boolean;
  statusCode: number | null;
  durationMs: number;
  response: string | null;
  error: string | null;
}

/** `GET /operations/{id}`: a recover and how far it got. */
export interface Operation {
  id: string;
  type: 'requeue' | 'recover';
  status: 'running' | 'completed' | 'failed';
  filter: Record<string, string>;
  progress: { matched: number; requeued: number; skipped: number; errors: number } | null;
  createdAt: string;
  completedAt: string | null;
}

/** How many of an event's deliveries are in each status, and in all. */
export type DeliveryCounts = Record<DeliveryStatus | 'total', number>;

/** An event of the tenant's event list: the envelope receivers get, with its deliveries' counts. */
export interface EventSummary {
  id: string;
  type: string;
  timestamp: string;
  deliveries: DeliveryCounts;
}
