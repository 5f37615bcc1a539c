import { legacySignature, signatureHeader } from '../signing/signature';
import type { EventEnvelope } from './types';

export interface SignedRequestInput {
  /** `webhook-id`: the delivery id, stable across every attempt and requeue of one delivery. */
  deliveryId: string;
  envelope: EventEnvelope;
  /** Current secret first, then a rotated one still inside its overlap. */
  secrets: readonly string[];
  customHeaders: readonly { name: string; value: string }[];
  now: Date;
}

/** Body and headers of one attempt: Standard Webhooks headers plus the compatibility set of API.md. */
export function buildSignedRequest(input: SignedRequestInput): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(input.envelope);
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
    'x-webhook-signature': legacySignature(input.secrets[0], body),
  });
  return { body, headers };
}
