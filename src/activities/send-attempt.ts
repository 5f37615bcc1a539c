import type { SecretBox } from '../crypto/secret-box';
import type { CircuitBreakers } from '../delivery/circuit-breaker';
import { completeAttemptRecord } from '../delivery/attempt-log';
import type { WebhookHttpClient } from '../delivery/http-client';
import { formatOf } from '../connectors/render';
import { classifyAttempt, type AttemptOutcome } from '../delivery/outcome';
import { signedRequestTo, type SigningWebhook } from '../delivery/signed-request';
import type { AttemptRecord } from '../delivery/types';
import { eventEnvelope } from '../events/event-envelope';
import { attemptDuration, deliveryAttempts, statusClass } from '../metrics/metrics';
import type { Models } from '../models';
import { eventKey, type EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';
import type { InFlightAttempts } from './in-flight-attempts';
import type { PageCache } from './page-cache';

export interface AttemptDeps {
  models: Models;
  secretBox: SecretBox;
  http: WebhookHttpClient;
  cache: PageCache;
  breakers: CircuitBreakers;
  inFlight: InFlightAttempts;
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
 * attempt's record and outcome) never holds it.
 */
export async function sendAttempt(
  { secretBox, http }: AttemptDeps,
  { deliveryId, webhook, event, attempt }: { deliveryId: string; webhook: WebhookDoc; event: EventDoc; attempt: number },
  onRequestStart?: (startedAt: Date) => void,
  /** Aborts the request: the activity's cancellation signal. */
  cancel?: AbortSignal,
): Promise<{ record: AttemptRecord; outcome: AttemptOutcome }> {
  const startedAt = new Date();
  const request = signedRequestTo(webhook as SigningWebhook, secretBox, { deliveryId, envelope: eventEnvelope(event), now: startedAt });
  onRequestStart?.(startedAt);
  const result = await http.post(webhook.url, request.headers, request.body, webhook.timeoutSeconds * 1000, cancel);
  const outcome = classifyAttempt(result, Date.now(), formatOf(webhook));
  // A chat service's answer recorded as what it meant; the gone reason is what disables the webhook (webhook-health.ts).
  const record = completeAttemptRecord(attempt, startedAt, result, outcome.kind === 'retry' || outcome.kind === 'gone' ? outcome.reason : undefined);
  const status_class = statusClass(record.statusCode);
  deliveryAttempts.inc({ status_class });
  attemptDuration.observe({ status_class }, result.durationMs / 1000);
  return { record, outcome };
}
