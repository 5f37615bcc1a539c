/**
 * Shopify webhooks: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>` keyed with the app's
 * client secret (or the store's webhook signing key). Shopify's own library (@shopify/shopify-api)
 * needs a whole app configuration (API key, host name, API version, a runtime adapter) to check
 * one header, so this is node:crypto with a constant-time comparison, tested against an
 * independent implementation (OpenSSL). The event is `X-Shopify-Topic` (`orders/create` ->
 * `shopify.orders.create`), the delivery id `X-Shopify-Webhook-Id` (the same on retries).
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
    return {
      providerEvent: requiredHeader(headers, 'x-shopify-topic'),
      deliveryId: requiredHeader(headers, 'x-shopify-webhook-id'),
      metadata: keptHeaders(headers, {
        'shopify-webhook-id': 'x-shopify-webhook-id',
        'shopify-event-id': 'x-shopify-event-id',
        'shopify-topic': 'x-shopify-topic',
        'shopify-shop-domain': 'x-shopify-shop-domain',
        'shopify-api-version': 'x-shopify-api-version',
      }),
    };
  },
};
