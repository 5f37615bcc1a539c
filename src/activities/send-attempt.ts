import type { SecretBox } from '../crypto/secret-box';
import type { CircuitBreakers } from '../delivery/circuit-breaker';
import { completeAttemptRecord, unsentAttemptRecord } from '../delivery/attempt-log';
import type { WebhookHttpClient } from '../delivery/http-client';
import { formatOf } from '../connectors/render';
import { classifyAttempt } from '../delivery/outcome';
import { outgoingRequest, type OutgoingWebhook } from '../delivery/outgoing-request';
import { eventEnvelope } from '../events/event-envelope';
import { attemptDuration, deliveryAttempts, statusClass } from '../metrics/metrics';
import type { Models } from '../models';
import { eventKey, type EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';
import type { InFlightAttempts, NotSent, SentAttempt } from './in-flight-attempts';
import type { Transformations } from '../transformations/transformations';
import type { PageCache } from './page-cache';
import type { TraceAttempt } from '../tracing/tracing';

export interface AttemptDeps {
  models: Models;
  secretBox: SecretBox;
  http: WebhookHttpClient;
  cache: PageCache;
  breakers: CircuitBreakers;
  inFlight: InFlightAttempts;
  transformations: Transformations;
  /** Wraps the request in an HTTP client span (tracing on). @default untraced */
  traceAttempt?: TraceAttempt;
}

/** Thrown when an event's payload is not in storage: the retention sweep removed it (it is inserted before its fan-out starts). */
export class EventMissingError extends Error {
  override readonly name = 'EventMissingError';
  constructor(readonly eventId: string) {
    super(`event ${eventId} is missing from storage`);
  }
}

/** The stored event; its payload never changes, so it is read once per worker and kept. */
export async function loadEvent({ models, cache }: AttemptDeps, tenantId: string, eventId: string): Promise<EventDoc> {
  const key = eventKey(tenantId, eventId);
  const cached = cache.event(key);
  if (cached) return cached;
  const event = await models.Event.findById(key).lean<EventDoc>();
  if (!event) throw new EventMissingError(eventId);
  cache.putEvent(event);
  return event;
}

/**
 * One signed HTTP attempt of a delivery, as the inline first attempt and the retries make it:
 * the secret and sealed header values are decrypted for the request and dropped; what comes back (the
 * attempt's record and outcome) never holds it. The webhook's transformation, if enabled, shapes
 * the request first: it may cancel the delivery (no request: `NotSent` inactive) or fail (an
 * attempt on record with no request, `transformation_failed`, which retrying cannot mend).
 */
export async function sendAttempt(
  deps: AttemptDeps,
  { deliveryId, webhook, event, attempt }: { deliveryId: string; webhook: WebhookDoc; event: EventDoc; attempt: number },
  onRequestStart?: (startedAt: Date) => void,
  /** Aborts the request: the activity's cancellation signal. */
  cancel?: AbortSignal,
): Promise<SentAttempt | NotSent> {
  const { http } = deps;
  const startedAt = new Date();
  const request = await outgoingRequest(deps, webhook as OutgoingWebhook, { deliveryId, envelope: eventEnvelope(event), now: startedAt });
  if (request.kind === 'canceled') return { notSent: 'inactive', reason: request.reason };
  const version = request.transformation ? { transformation: request.transformation } : {};
  if (request.kind === 'failed') {
    const record = unsentAttemptRecord(attempt, startedAt, 'transformation_failed', request.error, request.transformation);
    return { record, outcome: { kind: 'refused', reason: request.error } };
  }
  onRequestStart?.(startedAt);
  const send = () => http.post(request.url, request.headers, request.body, webhook.timeoutSeconds * 1000, cancel, request.method);
  const result = deps.traceAttempt
    ? await deps.traceAttempt({ method: request.method, url: request.url, tenantId: event.tenantId, eventId: event.eventId, webhookId: String(webhook._id), deliveryId, attempt }, send)
    : await send();
  const outcome = classifyAttempt(result, Date.now(), formatOf(webhook));
  // A chat service's answer recorded as what it meant; the gone reason is what disables the webhook (webhook-health.ts).
  const record = { ...completeAttemptRecord(attempt, startedAt, result, outcome.kind === 'retry' || outcome.kind === 'gone' ? outcome.reason : undefined), ...version };
  const status_class = statusClass(record.statusCode);
  deliveryAttempts.inc({ status_class });
  attemptDuration.observe({ status_class }, result.durationMs / 1000);
  return { record, outcome };
}
