/**
 * Shopify webhooks: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>` keyed with the app's
 * client secret (or the store's webhook signing key). Shopify's own library (@shopify/shopify-api)
 * needs a whole app configuration (API key, host name, API version, a runtime adapter) to check
 * one header, so this is node:crypto with a constant-time comparison, tested against an
 * independent implementation (OpenSSL). The event is `X-Shopify-Topic` (`orders/create` ->
 * `shopify.orders.create`). The delivery id follows Shopify's duplicate rule: `X-Shopify-Event-Id`
 * (the same on every retry of the event), scoped to the topic; a request without one (older API
 * versions) falls back to `X-Shopify-Webhook-Id`.
 */
import { hmacMatches } from './hmac';
import { headerValue, keptHeaders, requiredHeader, type SourceVerifier } from './verifier';

export const shopifyVerifier: SourceVerifier = {
  typePrefix: 'shopify',
  async verify({ raw, headers }, secret) {
    const signature = headerValue(headers, 'x-shopify-hmac-sha256');
    return signature !== undefined && hmacMatches(raw, secret, 'sha256', 'base64', signature);
  },
  describe({ headers }) {
    const topic = requiredHeader(headers, 'x-shopify-topic');
    const eventId = headerValue(headers, 'x-shopify-event-id');
    return {
      providerEvent: topic,
      deliveryId: eventId ? `${topic.replace(/\//g, '.')}:${eventId}` : requiredHeader(headers, 'x-shopify-webhook-id'),
      // Not X-Shopify-Webhook-Id nor X-Shopify-Triggered-At: they may differ between retries of one
      // event, which would make a retry a different body (409) instead of the same event.
      metadata: keptHeaders(headers, {
        'shopify-event-id': 'x-shopify-event-id',
        'shopify-topic': 'x-shopify-topic',
        'shopify-shop-domain': 'x-shopify-shop-domain',
        'shopify-api-version': 'x-shopify-api-version',
      }),
    };
  },
};
