/**
 * Stripe webhooks: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, keyed
 * with the endpoint's signing secret (`whsec_...`), checked by Stripe's own library with its
 * default tolerance of 5 minutes (an older timestamp is refused: a replay). The event is the
 * body's `type`, the delivery id its `id` (`evt_...`, the same on every retry).
 */
import Stripe from 'stripe';
import { bodyField, headerValue, UnreadableDeliveryError, type SourceVerifier } from './verifier';

/** Oldest `t=` Stripe's check accepts, in seconds (Stripe's documented default). */
export const STRIPE_TOLERANCE_SECONDS = 300;

export const stripeVerifier: SourceVerifier = {
  typePrefix: 'stripe',
  async verify({ raw, headers }, secret) {
    const signature = headerValue(headers, 'stripe-signature');
    if (!signature) return false;
    try {
      Stripe.webhooks.constructEvent(raw, signature, secret, STRIPE_TOLERANCE_SECONDS);
      return true;
    } catch {
      // A bad signature, an old timestamp, or a body Stripe's parser refuses (then it is not Stripe's).
      return false;
    }
  },
  describe(_request, body) {
    const id = bodyField(body, 'id');
    if (!id) throw new UnreadableDeliveryError('body.id', 'a Stripe event has an id');
    const metadata: Record<string, string> = { 'stripe-event-id': id };
    const apiVersion = bodyField(body, 'api_version');
    if (apiVersion) metadata['stripe-api-version'] = apiVersion;
    const account = bodyField(body, 'account');
    if (account) metadata['stripe-account'] = account;
    const livemode = (body as { livemode?: unknown }).livemode;
    if (typeof livemode === 'boolean') metadata['stripe-livemode'] = String(livemode);
    return { providerEvent: bodyField(body, 'type'), deliveryId: id, metadata };
  },
};
