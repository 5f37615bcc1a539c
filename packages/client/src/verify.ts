/**
 * For receivers: checks that a request came from the service, by Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * several space-separated while a rotated secret overlaps), and returns its parsed body.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors';

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, either way, in seconds (replays of old requests fail). @default 300 */
  toleranceSeconds?: number;
  /** The clock, in ms since the epoch. @default Date.now */
  now?: () => number;
}

/** Request headers as Node's http (`req.headers`), a plain object or a fetch `Headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** The body the service sends for an event (a webhook with a `format` or a transformation may send another). */
export interface WebhookPayload {
  id: string;
  type: string;
  /** ISO 8601: when the service accepted the event. */
  timestamp: string;
  tenant_id: string;
  data: unknown;
  metadata: Record<string, string>;
}

const SECRET_PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const entry = Object.entries(headers as Record<string, string | string[] | undefined>).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(entry) ? entry.join(' ') : entry;
}

/** The HMAC key of a `whsec_` secret: its base64 part, decoded. */
function secretKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('the secret is empty; expected whsec_ followed by base64');
  return key;
}

/**
 * Verifies a received request with the webhook's secret (or any of several, e.g. around a
 * rotation) against its raw body (the bytes as received, before any JSON parsing), and returns the
 * parsed body. Throws WebhookVerificationError when a header is missing, the timestamp is outside
 * the tolerance, or no signature matches.
 */
export function verify<T = WebhookPayload>(secret: string | readonly string[], headers: WebhookHeaders, body: string | Uint8Array, options: VerifyOptions = {}): T {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d+$/.test(timestamp.trim())) throw new WebhookVerificationError('webhook-timestamp is not Unix seconds');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const ageSeconds = (options.now ?? Date.now)() / 1000 - Number(timestamp);
  if (ageSeconds > tolerance) throw new WebhookVerificationError('webhook-timestamp is too old');
  if (-ageSeconds > tolerance) throw new WebhookVerificationError('webhook-timestamp is in the future');

  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const expected = (Array.isArray(secret) ? secret : [secret as string]).map((s) =>
    createHmac('sha256', secretKey(s)).update(`${id}.${timestamp.trim()}.`).update(bytes).digest(),
  );
  const matches = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'))
    .some((given) => expected.some((mac) => given.length === mac.length && timingSafeEqual(given, mac)));
  if (!matches) throw new WebhookVerificationError('no webhook-signature matches the secret');
  return JSON.parse(bytes.toString('utf8')) as T;
}
