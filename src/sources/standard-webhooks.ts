/**
 * Standard Webhooks senders (Svix, and services built on the spec): `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * checked by the spec's own library (`standardwebhooks`, 5-minute timestamp tolerance). The event
 * is the body's `type` when it has one (`standard_webhooks.<type>`), the delivery id `webhook-id`.
 */
import { Webhook } from 'standardwebhooks';
import { bodyField, headerValue, requiredHeader, type SourceVerifier } from './verifier';

/** Whether the library takes `secret` (`whsec_` + base64, or base64). */
export function isStandardWebhooksSecret(secret: string): boolean {
  try {
    new Webhook(secret);
    return /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(secret);
  } catch {
    return false;
  }
}

const SIGNED_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

export const standardWebhooksVerifier: SourceVerifier = {
  typePrefix: 'standard_webhooks',
  async verify({ raw, headers }, secret) {
    const signed: Record<string, string> = {};
    for (const name of SIGNED_HEADERS) {
      const value = headerValue(headers, name);
      if (!value) return false;
      signed[name] = value;
    }
    try {
      new Webhook(secret).verify(raw, signed);
      return true;
    } catch {
      return false;
    }
  },
  describe({ headers }, body) {
    const id = requiredHeader(headers, 'webhook-id');
    return { providerEvent: bodyField(body, 'type'), deliveryId: id, metadata: { 'webhook-id': id } };
  },
};
