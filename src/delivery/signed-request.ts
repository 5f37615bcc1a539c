import { formatOf, renderPayload, type WebhookFormat } from '../connectors/render';
import { openHeaders, type StoredHeader } from '../crypto/sealed-headers';
import type { SecretBox } from '../crypto/secret-box';
import { legacySignature, signatureHeader } from '../signing/signature';
import { signingSecrets, type StoredWebhookSecrets } from '../signing/signing-secrets';
import type { EventEnvelope } from './types';

export interface SignedRequestInput {
  /** `webhook-id`: the delivery id, stable across every attempt and requeue of one delivery. */
  deliveryId: string;
  /** The event: its id and type go in the compatibility headers. */
  envelope: EventEnvelope;
  /** The body as an object: the envelope, or its rendering for the webhook's format. Its JSON is what is signed and sent. */
  payload: unknown;
  /** The body as text, when a transformation made it: signed and sent instead of the payload's JSON. */
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
  const body = input.body ?? JSON.stringify(input.payload);
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
  /** What the body is (connectors/render.ts). Absent on webhooks created before the field: standard. */
  format?: WebhookFormat | null;
}

/**
 * The payload an attempt sends: the envelope rendered in the webhook's format (an unknown one,
 * say a newer release's, as standard). The one place a body is made; the webhook's transformation
 * starts from this object (outgoing-request.ts), before it is signed.
 */
export function outgoingPayload(webhook: Pick<SigningWebhook, 'format'>, envelope: EventEnvelope): unknown {
  return renderPayload(formatOf(webhook), envelope);
}

/**
 * The request of one attempt to a stored webhook (`body` and `headers`: a transformation's): its
 * secrets and sealed header values are decrypted here, at attempt time, and never leave the request.
 */
export function signedRequestTo(
  webhook: SigningWebhook,
  secretBox: SecretBox,
  { deliveryId, envelope, body, now, headers = {} }: Pick<SignedRequestInput, 'deliveryId' | 'envelope' | 'body' | 'now'> & { headers?: Record<string, string> },
): { body: string; headers: Record<string, string> } {
  return buildSignedRequest({
    deliveryId,
    envelope,
    payload: body === undefined ? outgoingPayload(webhook, envelope) : undefined,
    body,
    secrets: signingSecrets(webhook, secretBox, now),
    // A transformation's headers come last: they add to the webhook's own or replace them.
    customHeaders: [...openHeaders(webhook.headers, secretBox), ...Object.entries(headers).map(([name, value]) => ({ name, value }))],
    legacySignature: webhook.legacySignature ?? true,
    now,
  });
}
