/**
 * How a provider's request becomes one of our events: its event name made a valid event type
 * (events/event-type.ts: lowercase dotted segments) under the source type's prefix, and its
 * delivery id made a valid event id (routes/events.ts) scoped to the source, so the same
 * delivery retried by the provider is the same event and never fans out twice.
 */
import { createHash } from 'node:crypto';

/** Longest event type and event id the API takes. */
const MAX_TYPE_LENGTH = 128;
const MAX_ID_LENGTH = 128;
const PLAIN_ID = /^[A-Za-z0-9_.:-]+$/;

/**
 * `<prefix>.<provider event>` in our grammar: lowercased; `-` and spaces become `_` (words of one
 * name); `/`, `.`, `:` and any other character become segment breaks (`orders/create` ->
 * `orders.create`); a segment that does not start with a letter gets an `x` in front; nothing
 * usable -> `<prefix>.unknown`; cut to 128 characters.
 */
export function sourceEventType(prefix: string, providerEvent: string | undefined | null): string {
  const segments = (providerEvent ?? '')
    .toLowerCase()
    .replace(/[-\s]+/g, '_')
    .split(/[^a-z0-9_]+/)
    .filter(Boolean)
    .map((segment) => (/^[a-z]/.test(segment) ? segment : `x${segment}`));
  const type = [prefix, ...(segments.length ? segments : ['unknown'])].join('.');
  return type.length <= MAX_TYPE_LENGTH ? type : type.slice(0, MAX_TYPE_LENGTH).replace(/\.+$/, '');
}

/**
 * `<source id>:<delivery id>`: the provider's id as it is when it is plain and short enough, else
 * `sha256.<base64url digest of it>` (still one id per delivery id).
 */
export function sourceEventId(sourceId: string, deliveryId: string): string {
  const room = MAX_ID_LENGTH - sourceId.length - 1;
  const plain = PLAIN_ID.test(deliveryId) && deliveryId.length <= room;
  return `${sourceId}:${plain ? deliveryId : `sha256.${createHash('sha256').update(deliveryId).digest('base64url')}`}`;
}
