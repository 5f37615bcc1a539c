import { z } from 'zod';

/**
 * The `since`/`until` query parameters of the logs: ISO 8601 times with an offset, the window
 * [since, until), refused (400, naming `until`) when it is empty.
 */
export const timeWindowFields = (noun: string) => ({
  since: z.iso.datetime({ offset: true }).optional().meta({ description: `${noun} at or after this time (ISO 8601).` }),
  until: z.iso.datetime({ offset: true }).optional().meta({ description: `${noun} before this time (ISO 8601); later than \`since\`.` }),
});

/** Refines a query with timeWindowFields: `until` must be later than `since`. */
export const untilAfterSince: [(q: { since?: string; until?: string }) => boolean, { message: string; path: string[] }] = [
  (q) => !q.since || !q.until || Date.parse(q.until) > Date.parse(q.since),
  { message: 'must be later than since', path: ['until'] },
];
