import { createHmac } from 'node:crypto';
import { webhookSecretKey } from './webhook-secret';

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, as Standard Webhooks specifies. */
export function standardWebhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookSecretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * `webhook-signature` header value: one signature per valid secret, space-separated,
 * so receivers keep verifying while a rotated secret overlaps with its successor.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => standardWebhookSignature(secret, id, timestampSeconds, body)).join(' ');
}

/**
 * `X-Webhook-Signature` for receivers written to the older style: bare hex HMAC-SHA256 of the
 * body, keyed with the whole secret string (`whsec_` included), as API.md fixes it.
 */
export function legacySignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
