/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` keyed with the
 * webhook's secret, checked by GitHub's own library (@octokit/webhooks-methods). The event is
 * `X-GitHub-Event`, the delivery id `X-GitHub-Delivery` (the same when GitHub redelivers it).
 */
import { verify } from '@octokit/webhooks-methods';
import { keptHeaders, requiredHeader, headerValue, type SourceVerifier } from './verifier';

export const githubVerifier: SourceVerifier = {
  typePrefix: 'github',
  async verify({ raw, headers }, secret) {
    const signature = headerValue(headers, 'x-hub-signature-256');
    // Only SHA-256: the library would also take a `sha1=` value (GitHub's legacy X-Hub-Signature).
    if (!signature?.startsWith('sha256=') || raw.length === 0) return false;
    return verify(secret, raw.toString('utf8'), signature).catch(() => false);
  },
  describe({ headers }) {
    return {
      providerEvent: requiredHeader(headers, 'x-github-event'),
      deliveryId: requiredHeader(headers, 'x-github-delivery'),
      metadata: keptHeaders(headers, {
        'github-delivery': 'x-github-delivery',
        'github-event': 'x-github-event',
        'github-hook-id': 'x-github-hook-id',
        'github-hook-installation-target-type': 'x-github-hook-installation-target-type',
        'github-hook-installation-target-id': 'x-github-hook-installation-target-id',
      }),
    };
  },
};
