import { openHeaders, type StoredHeader } from '../crypto/sealed-headers';
import type { SecretBox } from '../crypto/secret-box';
import { legacySignature, signatureHeader } from '../signing/signature';
import { signingSecrets, type StoredWebhookSecrets } from '../signing/signing-secrets';
import type { EventEnvelope } from './types';

export interface SignedRequestInput {
  /** `webhook-id`: the delivery id, stable across every attempt and requeue of one delivery. */
  deliveryId: string;
  envelope: EventEnvelope;
  /** What is sent and signed, when not the envelope itself (a connector's rendering, a transformation's payload). */
  body?: string;
  /** Current secret first, then a rotated one still inside its overlap. */
  secrets: readonly string[];
  customHeaders: readonly { name: string; value: string }[];
  /** Also send the legacy `X-Webhook-Signature` (no timestamp: replayable). @default false */
  legacySignature?: boolean;
  now: Date;
}

/**
 * Body and headers of one attempt: Standard Webhooks headers plus the compatibility set of
 * API.md, whose replayable `X-Webhook-Signature` only when asked for.
 */
export function buildSignedRequest(input: SignedRequestInput): { body: string; headers: Record<string, string> } {
  const body = input.body ?? JSON.stringify(input.envelope);
  const timestamp = Math.floor(input.now.getTime() / 1000);
  const headers: Record<string, string> = {};
  // Custom headers first, so reserved names below always win.
  for (const { name, value } of input.customHeaders) headers[name.toLowerCase()] = value;
  Object.assign(headers, {
    'content-type': 'application/json',
    'webhook-id': input.deliveryId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(input.secrets, input.deliveryId, timestamp, body),
    'x-webhook-event-id': input.envelope.id,
    'x-webhook-event-type': input.envelope.type,
    'x-webhook-timestamp': input.now.toISOString(),
  });
  if (input.legacySignature) headers['x-webhook-signature'] = legacySignature(input.secrets[0], body);
  return { body, headers };
}

/** What an attempt reads of the stored webhook: secrets and custom headers (sealed), and the legacy signature's opt-in. */
export interface SigningWebhook extends StoredWebhookSecrets {
  headers: readonly StoredHeader[];
  /** Absent on webhooks created before the field existed: they keep getting the legacy header. */
  legacySignature?: boolean | null;
}

/**
 * The request of one attempt to a stored webhook (`headers`: a transformation's): its secrets and sealed header values are
 * decrypted here, at attempt time, and never leave the request.
 */
export function signedRequestTo(
  webhook: SigningWebhook,
  secretBox: SecretBox,
  { deliveryId, envelope, body, now, headers = {} }: Pick<SignedRequestInput, 'deliveryId' | 'envelope' | 'body' | 'now'> & { headers?: Record<string, string> },
): { body: string; headers: Record<string, string> } {
  return buildSignedRequest({
    deliveryId,
    envelope,
    body,
    secrets: signingSecrets(webhook, secretBox, now),
    // A transformation's headers come last: they add to the webhook's own or replace them.
    customHeaders: [...openHeaders(webhook.headers, secretBox), ...Object.entries(headers).map(([name, value]) => ({ name, value }))],
    legacySignature: webhook.legacySignature ?? true,
    now,
  });
}
