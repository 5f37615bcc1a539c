import { Webhook } from 'standardwebhooks';
import type { ReceivedRequest } from './receiver';

/**
 * Verifies a received request with the `standardwebhooks` package (an implementation we did not
 * write) and returns the payload; throws when the signature does not verify with `secret`.
 */
export function verifiedPayload(request: ReceivedRequest, secret: string): unknown {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id'] as string,
    'webhook-timestamp': request.headers['webhook-timestamp'] as string,
    'webhook-signature': request.headers['webhook-signature'] as string,
  });
}
