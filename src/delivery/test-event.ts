import type { SecretBox } from '../crypto/secret-box';
import { deliveryId, newId } from '../ids';
import type { WebhookHttpClient } from './http-client';
import { formatOf } from '../connectors/render';
import { classifyAttempt } from './outcome';
import type { Transformations } from '../transformations/transformations';
import { outgoingRequest, type OutgoingWebhook } from './outgoing-request';
import type { EventEnvelope } from './types';

export const TEST_EVENT_TYPE = 'webhook.test';

export interface TestEventWebhook extends OutgoingWebhook {
  _id: string;
  tenantId: string;
  timeoutSeconds: number;
}

export interface TestEventResult {
  success: boolean;
  statusCode: number | null;
  durationMs: number;
  response: string | null;
  error: string | null;
}

/**
 * Sends one signed `webhook.test` event to a webhook, synchronously, exactly as a real attempt
 * goes out (same format, transformation, signing, headers, HTTP client, SSRF guard and outcome classifier). It is not
 * an event of the tenant: nothing is stored, no counter changes, nothing is retried.
 */
export async function sendTestEvent(
  deps: { http: WebhookHttpClient; secretBox: SecretBox; transformations: Transformations },
  webhook: TestEventWebhook,
  now = new Date(),
): Promise<TestEventResult> {
  const eventId = newId('evt');
  const envelope: EventEnvelope = {
    id: eventId,
    type: TEST_EVENT_TYPE,
    timestamp: now.toISOString(),
    tenant_id: webhook.tenantId,
    data: { webhookId: webhook._id, message: 'This is a test event. It can be ignored.' },
    metadata: {},
  };
  const request = await outgoingRequest(deps, webhook, { deliveryId: deliveryId(webhook.tenantId, eventId, webhook._id), envelope, now });
  // The webhook's transformation canceled it or failed: no request.
  if (request.kind !== 'send') return { success: false, statusCode: null, durationMs: 0, response: null, error: request.kind === 'failed' ? request.error : request.reason };
  const result = await deps.http.post(request.url, request.headers, request.body, webhook.timeoutSeconds * 1000, undefined, request.method);
  const format = formatOf(webhook);
  const outcome = classifyAttempt(result, Date.now(), format);
  // A chat service's non-2xx answer says what it meant (`Slack answered 404 no_service`); a standard one is its status alone.
  const answered = format !== 'standard' && (outcome.kind === 'gone' || outcome.kind === 'retry') ? (outcome.reason ?? null) : null;
  return {
    success: outcome.kind === 'delivered',
    statusCode: result.kind === 'response' ? result.statusCode : null,
    durationMs: result.durationMs,
    response: result.kind === 'response' ? result.body : null,
    error: result.kind === 'error' ? `${result.errorClass}: ${result.message}` : answered,
  };
}
