/**
 * What every provider's verifier does: check the signature over the raw bytes as sent, then say
 * what the (verified, parsed) request is. One file per provider implements it (github.ts,
 * stripe.ts, ...); registry.ts maps a source type to its verifier.
 */

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Settings of a generic `hmac` source (the other types take none). */
export interface HmacSettings {
  /** Request header carrying the signature (lowercase). */
  header: string;
  /** @default 'sha256' */
  algorithm: 'sha256' | 'sha512';
  /** @default 'hex' */
  encoding: 'hex' | 'base64';
  /** Text before the signature in the header, e.g. `sha256=`. @default '' */
  prefix: string;
  /** Event name when `eventTypeHeader` is unset or absent: the event type is `hmac.<eventType>`. @default 'event' */
  eventType: string;
  /** Header naming the event (e.g. `x-event-type`). @default null */
  eventTypeHeader: string | null;
  /** Header carrying the sender's delivery id; without it, the id is a hash of the body. @default null */
  idHeader: string | null;
}

export interface SourceRequest {
  /** The body, exactly as received. */
  raw: Buffer;
  /** Lowercase names, as Node gives them. */
  headers: RequestHeaders;
  /** The source's settings (`hmac` only). */
  settings: HmacSettings | null;
}

/** What a verified request is, as our event. */
export interface ProviderEvent {
  /** The provider's event name (mapped to our grammar by event-naming.ts). */
  providerEvent: string | undefined;
  /** The provider's delivery id: the same across its retries of one delivery. */
  deliveryId: string;
  /** Provider headers worth keeping (never signatures, never per-attempt values). */
  metadata: Record<string, string>;
}

/** Thrown when a verified request lacks what names its event (a delivery id header, a body field). */
export class UnreadableDeliveryError extends Error {
  override readonly name = 'UnreadableDeliveryError';
  constructor(
    /** `headers.<name>` or `body.<field>`. */
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SourceVerifier {
  /** Prefix of the event types this provider's events get. */
  readonly typePrefix: string;
  /** True when the request carries a valid signature by `secret`; a bad or missing one is false, never a throw. */
  verify(request: SourceRequest, secret: string): Promise<boolean>;
  /** The event a verified request carries; `body` is its parsed JSON. Throws UnreadableDeliveryError. */
  describe(request: SourceRequest, body: unknown): ProviderEvent;
}

/** A header's (first) value. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A header the provider always sends; its absence makes the delivery unreadable. */
export function requiredHeader(headers: RequestHeaders, name: string): string {
  const value = headerValue(headers, name);
  if (!value) throw new UnreadableDeliveryError(`headers.${name}`, `the ${name} header is missing`);
  return value;
}

/** Metadata values as the event schema bounds them (1024 characters), absent ones left out. */
export function keptHeaders(headers: RequestHeaders, names: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, header] of Object.entries(names)) {
    const value = headerValue(headers, header);
    if (value) kept[key] = value.slice(0, 1024);
  }
  return kept;
}

/** A string field of a JSON object body, if it has one. */
export function bodyField(body: unknown, field: string): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}
