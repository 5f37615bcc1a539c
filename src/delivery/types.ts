/** What receivers get as the request body. */
export interface EventEnvelope {
  id: string;
  type: string;
  /** ISO 8601 time the event was accepted. */
  timestamp: string;
  tenant_id: string;
  data: unknown;
  metadata: Record<string, string>;
}

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'canceled';

/** One HTTP request of a delivery, as the audit log records it. */
export interface AttemptRecord {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  /** Error class and message for a network failure, timeout or refused URL; null on a response. */
  error: string | null;
  /** First 1000 characters of the response body. */
  response: string | null;
}

/** A webhook chosen by the fan-out, with what its delivery workflow needs to set its retry policy. */
export interface MatchedWebhook {
  webhookId: string;
  /** Derived from tenant, event and webhook (see ids.ts), computed here since workflows cannot hash. */
  deliveryId: string;
  maxAttempts: number;
  /** Host of the URL, for the Web UI summary; the URL itself is read live at each attempt. */
  host: string;
}

export interface MatchPage {
  webhooks: MatchedWebhook[];
  nextCursor: string | null;
}

/** The event a workflow works on; its payload stays in MongoDB (see models/event.ts). */
export interface EventRef {
  tenantId: string;
  eventId: string;
  eventType: string;
}

export interface FanoutInput extends EventRef {
  /** Where the previous run stopped, when the fan-out continued as new. */
  cursor?: string | null;
  started?: number;
}

export interface FanoutResult {
  deliveries: number;
}

export interface DeliveryInput extends EventRef {
  deliveryId: string;
  webhookId: string;
  maxAttempts: number;
}

/** How a delivery ended without failing: its workflow's result. */
export interface DeliveryOutcome {
  status: Extract<DeliveryStatus, 'delivered' | 'canceled'>;
  attempts: AttemptRecord[];
  /** Why a delivery was canceled (webhook deleted, deactivated or disabled meanwhile). */
  reason?: string;
}
