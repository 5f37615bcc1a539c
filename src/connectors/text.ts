/**
 * Text helpers the chat renderings share: a readable JSON of the event's data, and truncation that
 * never passes a service's limit. Lengths are JavaScript string lengths (UTF-16 code units), never
 * fewer than the characters the services count, and a cut never splits a surrogate pair.
 */

/** Appended where text was cut; `{n}` is how many characters were left out. */
export const TRUNCATION_MARKER = '… (truncated, {n} more characters)';

/** The event's data as the chat formats show it: indented JSON (`null` when it has none). */
export function dataText(data: unknown): string {
  return JSON.stringify(data ?? null, null, 2) ?? 'null';
}

/** The first `length` code units of `text`, one fewer when that would split a surrogate pair. */
function cutAt(text: string, length: number): string {
  if (length <= 0) return '';
  const code = text.charCodeAt(length - 1);
  return code >= 0xd800 && code <= 0xdbff ? text.slice(0, length - 1) : text.slice(0, length);
}

/** `text` as is when it fits in `max`, else cut with the marker saying how much was left out; never longer than `max`. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (leftOut: number) => TRUNCATION_MARKER.replace('{n}', String(leftOut));
  if (marker(text.length).length >= max) return cutAt(text, max);
  // The count is of what is left out, which depends on where the cut falls, which depends on the
  // count's digits: a few passes settle it (the marker only gets shorter, the cut later).
  let leftOut = text.length;
  let kept = '';
  for (let pass = 0; pass < 5; pass++) {
    kept = cutAt(text, max - marker(leftOut).length);
    if (text.length - kept.length === leftOut) break;
    leftOut = text.length - kept.length;
  }
  return kept + marker(leftOut);
}

/**
 * The longest prefix of `text` (cut with the marker) for which `fits` holds, by bisection on its
 * length; '' when not even the empty text fits. For limits on an encoded size (Teams' bytes).
 */
export function truncateToFit(text: string, fits: (candidate: string) => boolean): string {
  if (fits(text)) return text;
  if (!fits('')) return '';
  let low = 0;
  let high = text.length;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(truncate(text, mid))) low = mid;
    else high = mid;
  }
  return truncate(text, low);
}

/** Three backticks inside a code block would end it: a zero-width space goes between them. */
export function fenceSafe(text: string): string {
  return text.replace(/```/g, '`\u200b`\u200b`');
}
