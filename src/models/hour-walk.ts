/**
 * Newest-first pages read an hour at a time: FerretDB v1 pushes an equality down to PostgreSQL
 * but runs ranges and sorts in memory over every row the equalities selected, so a hot list keeps
 * the hour of its sort time as a field (`createdHour` of deliveries, `acceptedHour` of events) and
 * reads a page by equality on it, hour by hour, not by a range over all of a tenant's documents.
 * The time range of each hour is MongoDB's index bound.
 */

const HOUR_MS = 3_600_000;

/** The hour (hours since the epoch) of `at`: what `createdHour` and `acceptedHour` hold. */
export const hourOf = (at: Date): number => Math.floor(at.getTime() / HOUR_MS);

/** When hour `hour` begins. */
export const hourStart = (hour: number): Date => new Date(hour * HOUR_MS);

/**
 * How many hours are read at once (in parallel), round by round, before the rest is read in one
 * query: the first round is the next hour (clock skew) and this one; few hours while a busy
 * list's page is likely full, more for quieter ones. 25 hours in all.
 */
const WALK_ROUNDS = [2, 1, 2, 4, 4, 4, 4, 4];

/** `{ $gte, $lt }` of the range [from, to), either end open. */
export const timeRange = (from: Date | undefined, to: Date | undefined) => ({ ...(from && { $gte: from }), ...(to && { $lt: to }) });
const later = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
const earlier = (a: Date | undefined, b: Date) => (a && a < b ? a : b);

/** A query of at most `limit` documents, newest first. */
export type FindPage<T> = (query: Record<string, unknown>, limit: number) => Promise<T[]>;

export interface HourWalk {
  /** The field holding the hour of `timeField` (an equality FerretDB pushes down). */
  hourField: string;
  /** The sort time. */
  timeField: string;
  /** At or after this time. */
  since?: Date;
  /** Before this time. */
  until?: Date;
  /** The sort time of the previous page's last document: the walk starts in its hour. */
  after?: Date;
}

/**
 * Up to `want` documents matching `query` newest first, read an hour at a time from the newest
 * hour the page may start in, so a page reads the documents of the hours it spans. A list too
 * sparse to fill the page in the hours of WALK_ROUNDS has its older documents read in one query:
 * few of them. `query` holds the equalities and the cursor's condition, never the time range.
 */
export async function walkHours<T>(find: FindPage<T>, query: Record<string, unknown>, walk: HourWalk, want: number): Promise<T[]> {
  const { hourField, timeField, since, until, after } = walk;
  // Without a cursor or an end, from the hour after this one: the time may have been stamped on
  // another machine, whose clock may be ahead.
  let hour = after ? hourOf(after) : until ? hourOf(new Date(until.getTime() - 1)) : hourOf(new Date()) + 1;
  const lowest = since ? hourOf(since) : -Infinity;
  const found: T[] = [];
  for (const size of WALK_ROUNDS) {
    if (hour < lowest || found.length >= want) break;
    const hours = Array.from({ length: size }, (_, i) => hour - i).filter((h) => h >= lowest);
    const pages = await Promise.all(
      hours.map((h) => find({ ...query, [hourField]: h, [timeField]: timeRange(later(since, hourStart(h)), earlier(until, hourStart(h + 1))) }, want - found.length)),
    );
    found.push(...pages.flat());
    hour -= hours.length;
  }
  if (found.length >= want || hour < lowest) return found.slice(0, want);
  const rest = await find({ ...query, [timeField]: timeRange(since, earlier(until, hourStart(hour + 1))) }, want - found.length);
  return [...found, ...rest];
}
