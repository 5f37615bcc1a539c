/** `Retry-After` as the API (or a proxy in front of it) sends it: delay-seconds or an HTTP date. */

/** Seconds to wait from `now` (ms); undefined when the header is absent or unreadable. A date in the past is 0. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  // An HTTP date always names its weekday or month in letters; a bare number that failed above is not one.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}
