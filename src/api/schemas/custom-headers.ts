import { z } from 'zod';
import { isSensitiveHeader } from '../../crypto/sealed-headers';

export { isSensitiveHeader };

/** RFC 7230 token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab: no CR, LF or other control characters, nothing a proxy rewrites. */
export const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Set by the service on every request, or hop-by-hop: a webhook cannot override them. */
export const RESERVED_HEADER =
  /^(content-type|content-length|content-encoding|host|user-agent|transfer-encoding|connection|keep-alive|upgrade|te|trailer|expect|proxy-.*|webhook-.*|x-webhook-.*)$/i;

export const CUSTOM_HEADER_LIMITS = { count: 20, nameLength: 256, valueLength: 4096, totalBytes: 8192 } as const;

/** The OpenAPI document's forms of the rules below (JSON Schema patterns have no flags). */
const RESERVED_HEADER_ANY_CASE = RESERVED_HEADER.source.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
const TRIMMED_HEADER_VALUE = '^(?:[\\x21-\\x7e](?:[\\t\\x20-\\x7e]*[\\x21-\\x7e])?)?$';

const headerName = z
  .string()
  .min(1)
  .max(CUSTOM_HEADER_LIMITS.nameLength)
  .regex(HEADER_NAME, 'expected an RFC 7230 header name (token characters only)')
  .meta({ not: { pattern: RESERVED_HEADER_ANY_CASE } });
const headerValue = z
  .string()
  .max(CUSTOM_HEADER_LIMITS.valueLength)
  .regex(HEADER_VALUE, 'header values may hold visible ASCII, space and tab only (no CR, LF or other control characters)')
  .refine((v) => v === v.trim(), 'header values cannot start or end with whitespace')
  .meta({ pattern: TRIMMED_HEADER_VALUE });

/** Count, total size, reserved names and case-insensitive duplicates; a kept value (null) counts no bytes here. */
function checkHeaders(headers: Record<string, string | null>, ctx: z.RefinementCtx): void {
  const names = Object.keys(headers);
  if (names.length > CUSTOM_HEADER_LIMITS.count) ctx.addIssue({ code: 'custom', message: `at most ${CUSTOM_HEADER_LIMITS.count} custom headers` });
  const bytes = names.reduce((sum, name) => sum + name.length + (headers[name]?.length ?? 0), 0);
  if (bytes > CUSTOM_HEADER_LIMITS.totalBytes) ctx.addIssue({ code: 'custom', message: `custom headers may total at most ${CUSTOM_HEADER_LIMITS.totalBytes} bytes` });
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADER.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is reserved and cannot be set` });
    else if (seen.has(lower)) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is given twice (header names are case-insensitive)` });
    seen.add(lower);
  }
}

const DESCRIPTION =
  'Headers sent with every attempt. Reserved names (Content-Type, Content-Length, Host, User-Agent, webhook-*, X-Webhook-*, hop-by-hop) cannot be set. Values of credential-like names (Authorization, Cookie, *token*, *key*, *secret*, ...) are stored encrypted and never shown again.';

/** The webhook's own headers, sent with every attempt. */
export const customHeadersSchema = z.record(headerName, headerValue).superRefine(checkHeaders).meta({ maxProperties: CUSTOM_HEADER_LIMITS.count, description: DESCRIPTION });

/**
 * `headers` of a PATCH: as on create, and a value may be `null` to keep that header's stored
 * value, so a client can change other headers without knowing a sensitive value it cannot read.
 */
export const customHeadersPatchSchema = z
  .record(headerName, headerValue.nullable())
  .superRefine(checkHeaders)
  .meta({
    maxProperties: CUSTOM_HEADER_LIMITS.count,
    description: `${DESCRIPTION} The list replaces the stored one; a value of null keeps the stored value of that header (e.g. a sensitive one, whose value is never shown).`,
  });
