import type { SecretBox } from '../crypto/secret-box';
import { isSensitiveHeader, openHeaders } from '../crypto/sealed-headers';
import type { Transformations } from '../transformations/transformations';
import type { StoredTransformation } from '../transformations/transformation';
import { outgoingPayload, signedRequestTo, type SigningWebhook } from './signed-request';
import type { EventEnvelope } from './types';

/** What an attempt reads of the webhook to build its request. */
export interface OutgoingWebhook extends SigningWebhook {
  url: string;
  transformation?: StoredTransformation | null;
}

/** The request of one attempt, or why none is made; `transformation` is the version of its code that ran (null: none). */
export type OutgoingRequest =
  | { kind: 'send'; url: string; method: 'POST' | 'PUT'; headers: Record<string, string>; body: string; transformation: string | null }
  | { kind: 'canceled'; reason: string; transformation: string }
  | { kind: 'failed'; error: string; transformation: string };

/** What a delivery canceled by its webhook's transformation says. */
export const CANCELED_BY_TRANSFORMATION = 'canceled by its transformation: handler returned cancel: true';

/**
 * One attempt's request: the body (the event envelope, or its rendering in the webhook's format), changed by the webhook's transformation
 * when it has one enabled, then signed: the body sent is the body signed. A changed URL goes
 * through the same SSRF guard as a stored one (the HTTP client checks every URL it is given).
 */
export async function outgoingRequest(
  deps: { secretBox: SecretBox; transformations: Transformations },
  webhook: OutgoingWebhook,
  { deliveryId, envelope, now }: { deliveryId: string; envelope: EventEnvelope; now: Date },
): Promise<OutgoingRequest> {
  const code = webhook.transformation?.enabled ? webhook.transformation.code : undefined;
  if (code === undefined) {
    const { body, headers } = signedRequestTo(webhook, deps.secretBox, { deliveryId, envelope, now });
    return { kind: 'send', url: webhook.url, method: 'POST', headers, body, transformation: null };
  }
  // Sensitive values are sent as stored, never shown to the code.
  const visible = openHeaders(webhook.headers.filter((h) => !isSensitiveHeader(h.name ?? '')), deps.secretBox);
  const result = await deps.transformations.run(code, {
    eventType: envelope.type,
    eventId: envelope.id,
    url: webhook.url,
    method: 'POST',
    headers: Object.fromEntries(visible.map(({ name, value }) => [name, value])),
    // A connector format's default rendering, which the code may customise.
    payload: outgoingPayload(webhook, envelope),
  });
  if (result.kind === 'cancel') return { kind: 'canceled', reason: CANCELED_BY_TRANSFORMATION, transformation: result.version };
  if (result.kind === 'failed') return { kind: 'failed', error: `transformation_failed: ${result.message}`, transformation: result.version };
  const { body, headers } = signedRequestTo(webhook, deps.secretBox, { deliveryId, envelope, body: result.body, now, headers: result.headers });
  return { kind: 'send', url: result.url, method: result.method, headers, body, transformation: result.version };
}
