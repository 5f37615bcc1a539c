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

/**
 * Why an attempt got no HTTP status; `worker_lost` marks an attempt whose worker stopped
 * mid-request, `canceled` one aborted by the delivery's cancellation before the receiver answered,
 * `transformation_failed` one whose webhook's transformation failed, so no request was made.
 */
export type AttemptErrorClass =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'url_refused'
  | 'network'
  | 'canceled'
  | 'worker_lost'
  | 'transformation_failed';

/** One HTTP request of a delivery, as the audit log records it. */
export interface AttemptRecord {
  attempt: number;
  /** Worker clock when the request was sent (ISO 8601). */
  startedAt: string;
  /** Null while the request is in flight, and for an attempt whose worker stopped mid-request. */
  durationMs: number | null;
  statusCode: number | null;
  /** Null when the receiver answered. */
  errorClass: AttemptErrorClass | null;
  /** Error message (never a secret), or `HTTP <status>` for a non-2xx answer; null on success. */
  error: string | null;
  /** First 1000 characters of the response body. */
  response: string | null;
  /** The version of the webhook's transformation that made its request (transformations/transformation.ts); absent: none ran. */
  transformation?: string;
}

/** A webhook chosen by the fan-out, with what its delivery workflow needs to set its retry policy. */
export interface MatchedWebhook {
  webhookId: string;
  /** Derived from tenant, event and webhook (see ids.ts), computed here since workflows cannot hash. */
  deliveryId: string;
  maxAttempts: number;
  /** Host of the URL, for the Web UI summary; the URL itself is read live at each attempt. */
  host: string;
  /** The schedule's first delay: how long a retrying delivery waits after its first attempt. */
  firstDelayMs?: number;
  /** Already in the deliveries index (a reset or replayed fan-out): its first attempt is never made again. */
  recorded?: boolean;
  /** Set for a FIFO webhook only (absent: unordered): its delivery goes to the webhook's line, with no inline attempt. */
  ordering?: 'fifo';
  /** Set for a webhook with a rate limit only: its fan-out may hold its delivery for a slot. */
  rateLimited?: true;
  /**
   * `recorded`, and held by a run of this fan-out that never settled it (its worker lost before
   * its task completed): `attempt`, its request's open record, or null (none sent yet, as far as
   * the index knows). Its workflow takes it over.
   */
  unsettled?: { attempt: AttemptRecord | null };
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

/** The workflow code an execution was started with (temporal/workflow-version.ts); absent before it existed. */
export interface Versioned {
  version?: number;
}

export interface FanoutInput extends EventRef, Versioned {
  /** Where the previous run stopped, when the fan-out continued as new. */
  cursor?: string | null;
  started?: number;
  /** The previous run's first attempts, which this run records beside its own attempts. */
  unrecorded?: FirstAttemptsRecord;
}

export interface FanoutResult {
  deliveries: number;
}

export interface DeliveryInput extends EventRef, Versioned {
  deliveryId: string;
  webhookId: string;
  maxAttempts: number;
  /** Host of the webhook URL when the delivery started, for the Web UI summaries. */
  host: string;
  /**
   * The attempt the fan-out made inline, when it hands the delivery over for retries: the
   * workflow waits `firstDelayMs`, then the deliver activity runs attempts 2.. of the schedule.
   */
  firstAttempt?: AttemptRecord;
  firstDelayMs?: number;
  /**
   * Set on a deliberate resend of a delivered delivery (`POST /v1/deliveries/{id}/resend`): one
   * attempt, sent once per resend id whatever reset or replay runs it; the delivery stays delivered.
   */
  resendId?: string;
  /**
   * When a requeued run became due (ISO time): a delivery that has made no attempt yet waits behind
   * an open circuit breaker no longer than its schedule from then (from the event's acceptance when absent).
   */
  dueAt?: string;
  /**
   * `firstAttempt` is open, its request still in flight in the worker that made it (the receiver
   * was slow): the deliver activity takes its outcome from there, or waits for its schedule.
   */
  firstAttemptInFlight?: boolean;
}

/** What the fan-out's inline first attempt of a delivery came to; never holds a secret. */
export type FirstAttemptOutcome = 'delivered' | 'retry' | 'gone' | 'refused' | 'inactive' | 'unfinished' | 'queued' | 'held';

export interface FirstAttemptResult {
  deliveryId: string;
  webhookId: string;
  outcome: FirstAttemptOutcome;
  /** Null when no request was sent (inactive webhook; `queued`: handed to a FIFO webhook's line). */
  attempt: AttemptRecord | null;
  /** Delay before attempt 2 (the schedule's, or a longer `Retry-After`), for `retry` and `unfinished`. */
  nextRetryDelayMs?: number;
  /** Why it was not delivered. */
  reason?: string;
  /** `unfinished` with its request still in flight (past the inline budget): the delivery's workflow takes the outcome over. */
  inFlight?: boolean;
  /** `unfinished` with no request made: its webhook's rate limit reserved it a slot `nextRetryDelayMs` from now. */
  rateLimited?: boolean;
  /** `rateLimited`, its request to be sent in its slot by the worker that reserved it (`at`, epoch ms, of a webhook limited to `perSecond`). */
  scheduled?: { at: number; perSecond: number };
  /** When the fan-out holding it settles it, if not `nextRetryDelayMs` from now: a scheduled request's slot plus its timeout. */
  settleInMs?: number;
}

/** A first attempt of a batch that could not be made (its webhook or event unreadable, its request unsigned): the fan-out hands it to a retry. */
export interface FirstAttemptNotMade {
  deliveryId: string;
  webhookId: string;
  notMade: string;
}

/** What a batch's local activity returns when it records the outcomes that end there (workflow version 2). */
export interface RecordedFirstAttempts {
  results: (FirstAttemptResult | FirstAttemptNotMade)[];
  /** Deliveries whose final outcome (delivered, 410, refused, inactive) this activity recorded: the fan-out records the rest. */
  recorded: string[];
}

/** A page of first attempts, for the deliveries index and the webhooks' counters. */
export interface FirstAttemptsRecord extends EventRef {
  /** The fan-out run whose history holds these attempts. */
  fanoutRunId: string;
  /** The fan-out's first page (a rerun of it always looks for its deliveries). Runs before this field say nothing. */
  firstPage?: boolean;
  results: FirstAttemptResult[];
}

/** A delivered delivery: its workflow's result. Failed and canceled ones end their workflow so. */
export interface DeliveryResult {
  status: 'delivered';
  attempts: AttemptRecord[];
}

/** How a delivery ended, as the webhook's counters record it. */
export type FinalOutcome = 'delivered' | 'failed' | 'gone' | 'canceled';
