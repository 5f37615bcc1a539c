/**
 * Generic HMAC sources: a header carrying `<prefix><hex or base64 HMAC-SHA256/512 of the body>`
 * keyed with the secret's UTF-8 bytes, the common shape of senders without a standard. Compared
 * as bytes, in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue, keptHeaders, type HmacSettings, type SourceVerifier } from './verifier';

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Whether `presented` (hex or base64) is the HMAC of `raw` by `secret`. */
export function hmacMatches(raw: Buffer, secret: string, algorithm: 'sha256' | 'sha512', encoding: 'hex' | 'base64', presented: string): boolean {
  const expected = createHmac(algorithm, secret).update(raw).digest();
  const text = presented.trim();
  if (!(encoding === 'hex' ? HEX : BASE64).test(text)) return false;
  const given = Buffer.from(text, encoding);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Settings for a source created without them (only `header` has no default). */
export const HMAC_DEFAULTS: Omit<HmacSettings, 'header'> = {
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: '',
  eventType: 'event',
  eventTypeHeader: null,
  idHeader: null,
};

export const hmacVerifier: SourceVerifier = {
  typePrefix: 'hmac',
  async verify({ raw, headers, settings }, secret) {
    if (!settings) return false;
    const value = headerValue(headers, settings.header);
    if (!value?.startsWith(settings.prefix)) return false;
    return hmacMatches(raw, secret, settings.algorithm, settings.encoding, value.slice(settings.prefix.length));
  },
  describe({ raw, headers, settings }) {
    const s = settings ?? { header: '', ...HMAC_DEFAULTS };
    const named = s.eventTypeHeader ? headerValue(headers, s.eventTypeHeader) : undefined;
    const id = s.idHeader ? headerValue(headers, s.idHeader) : undefined;
    // Without an id header the body is the identity: the same body sent twice is one event.
    const deliveryId = id ?? `body-sha256.${createHash('sha256').update(raw).digest('hex')}`;
    return {
      providerEvent: named ?? s.eventType,
      deliveryId,
      metadata: {
        'hmac-delivery-id': deliveryId,
        ...(s.eventTypeHeader ? keptHeaders(headers, { 'hmac-event': s.eventTypeHeader }) : {}),
      },
    };
  },
};
