/** The source types and the verifier of each: the one place a new provider is added. */
import { githubVerifier } from './github';
import { hmacVerifier } from './hmac';
import { shopifyVerifier } from './shopify';
import { standardWebhooksVerifier } from './standard-webhooks';
import { stripeVerifier } from './stripe';
import type { SourceVerifier } from './verifier';

export const SOURCE_TYPES = ['github', 'stripe', 'shopify', 'standard-webhooks', 'hmac'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const VERIFIERS: Record<SourceType, SourceVerifier> = {
  github: githubVerifier,
  stripe: stripeVerifier,
  shopify: shopifyVerifier,
  'standard-webhooks': standardWebhooksVerifier,
  hmac: hmacVerifier,
};

export const isSourceType = (type: string): type is SourceType => (SOURCE_TYPES as readonly string[]).includes(type);
